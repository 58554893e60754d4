// Reading the browser viewer's state (window.__lockstep) from the failover
// demo, the chaos run, the benchmarks and tests, and measuring a failover from outside.
import type { Page } from 'playwright-core';
import { ownerTokenFor } from './cluster-secrets.js';
import { waitFor } from './wait-for.js';

export interface ViewerPageState {
  ready: boolean;
  sessionId: string | null;
  liveReplicaId: string | null;
  liveHostId: string | null;
  displayedSeq: number;
  ackedSeq: number;
  pendingInputs: number;
  switches: number;
  mode: string;
}

export async function viewerPageState(page: Page): Promise<ViewerPageState | null> {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: Record<string, unknown> }).__lockstep;
    if (!l) return null;
    return {
      ready: l.ready === true,
      sessionId: (l.sessionId as string | null) ?? null,
      liveReplicaId: (l.liveReplicaId as string | null) ?? null,
      liveHostId: (l.liveHostId as string | null) ?? null,
      displayedSeq: Number(l.displayedSeq ?? -1),
      ackedSeq: Number(l.ackedSeq ?? -1),
      pendingInputs: Number(l.pendingInputs ?? -1),
      switches: Array.isArray(l.switches) ? l.switches.length : 0,
      mode: typeof l.mode === 'string' ? l.mode : '',
    };
  });
}

/** Where the viewer reads frame stamps: `frame` asks for frame callbacks (`?stamps=frame`), `default` is the product's. */
export type ViewerStamps = 'default' | 'frame' | 'processor';

/**
 * The viewer's stamp source for a page opened now: LOCKSTEP_VIEWER_STAMPS=frame|processor when set (the e2e tests
 * and benches run either way), else `preferred` (the latency bench asks for frame callbacks: display times).
 */
export function viewerStamps(preferred: ViewerStamps = 'default'): ViewerStamps {
  const env = process.env.LOCKSTEP_VIEWER_STAMPS;
  return env === 'frame' || env === 'processor' ? env : preferred;
}

export async function openViewer(
  page: Page,
  url: string,
  sessionId: string,
  mode: 'hot' | 'warm' = 'warm',
  token: string = ownerTokenFor(url),
  stamps: ViewerStamps = viewerStamps(),
): Promise<void> {
  // LOCKSTEP_VIEWER_DEBUG=1: the viewer logs its decisions (?debug, viewer/debug-log.ts) to the console.
  const debug = process.env.LOCKSTEP_VIEWER_DEBUG === '1' ? '&debug' : '';
  // ?stamps= (viewer/frame-stamp-reader.ts): absent for the product default (a track processor in Chromium).
  const stampsParam = stamps === 'default' ? '' : `&stamps=${stamps}`;
  // LOCKSTEP_VIEWER_DISPLAY=tiles: the shown stream from its display channel (?display=, viewer/tile-display.ts).
  const display = process.env.LOCKSTEP_VIEWER_DISPLAY === 'tiles' ? '&display=tiles' : '';
  await page.goto(
    `${url}/?session=${sessionId}&mode=${mode}&token=${encodeURIComponent(token)}${debug}${stampsParam}${display}`,
  );
  await waitFor('viewer showing frames', async () => (await viewerPageState(page))?.ready, 30_000);
  await page.locator('[data-testid="stage"]').click();
}

export interface FailoverObservation {
  /** ms from the kill to the first displayed frame of another replica at least as fresh as before. */
  gapMs: number;
  from: string;
  to: string;
  toHost: string | null;
}

/**
 * Waits, after a kill at `killedAt` (Date.now()), until the viewer shows
 * another replica whose frames are at least as fresh as `seqAtKill`.
 */
export async function observeFailover(
  page: Page,
  killedReplica: string,
  seqAtKill: number,
  killedAt: number,
  timeoutMs = 15_000,
): Promise<FailoverObservation> {
  const s = await waitFor(
    'failover to another replica',
    async () => {
      const st = await viewerPageState(page);
      return st && st.liveReplicaId && st.liveReplicaId !== killedReplica && st.displayedSeq >= seqAtKill
        ? st
        : undefined;
    },
    timeoutMs,
    10,
  );
  return { gapMs: Date.now() - killedAt, from: killedReplica, to: s.liveReplicaId ?? '', toHost: s.liveHostId };
}
