// Failover gap in headless Chromium: a session of 3 replicas on 3 renderer
// processes, a typist in the page, and the renderer being shown SIGKILLed over
// and over (restarted ~1 s later; every kill waits until R is restored and the
// viewer consumes all 3 streams). Per kill: the visible gap from the SIGKILL to
// the first fresh frame (stamp ≥ the one shown at the kill) from another
// replica (observeFailover), the viewer's switch time, and the server-side
// detection time (a session.update without the killed replica). Hot vs warm.
// Usage: tsx bench/failover.ts [--mode warm|hot]
import type { Page } from 'playwright-core';
import type { ViewerNotification } from '../protocol/signalling.js';
import { launchChromium, type TestBrowser } from '../scripts/lib/chromium.js';
import { removeDir, stopAll } from '../scripts/lib/launcher.js';
import type { ViewerClient } from '../scripts/lib/viewer-client.js';
import { waitFor } from '../scripts/lib/wait-for.js';
import { observeFailover, viewerPageState } from '../scripts/lib/viewer-page.js';
import {
  connectViewer,
  createSession,
  fetchSession,
  fullStrength,
  openBenchViewer,
  sleep,
  startCluster,
  startClusterNode,
  waitForStreams,
  type Cluster,
} from './lib/cluster.js';
import {
  collector,
  formatResult,
  isMain,
  load1m,
  round,
  summarize,
  summarizeWithTimeouts,
  type BenchResult,
} from './lib/report.js';

const WIDTH = 640;
const HEIGHT = 480;
const HOSTS = ['fo-host-1', 'fo-host-2', 'fo-host-3'];
const REPLICAS = 3;
const MODES = ['hot', 'warm'] as const;
type Mode = (typeof MODES)[number];
const TARGET_KILLS = Number(process.env.LOCKSTEP_BENCH_KILLS ?? 20);
/** Each mode stops killing after this long, whatever the count. */
const MODE_BUDGET_MS = Number(process.env.LOCKSTEP_BENCH_FAILOVER_MS ?? 100_000);
const RESTART_AFTER_MS = 1000;
/** Quiet time between R being restored and the next kill. */
const SETTLE_MS = 300;
const TYPE_EVERY_MS = 150;
/** Inputs a restored replica may trail the head by (its status reports lag the typist). */
const MAX_LAG = 30;
const debug = process.env.LOCKSTEP_BENCH_DEBUG ? (m: string) => console.log(`[failover] ${m}`) : () => {};
const TYPED = 'failover keeps typing while renderers die ';

/** A failover not seen by then is a timeout: it enters the percentiles at this value (and is counted). */
const FAILOVER_TIMEOUT_MS = 15_000;

interface Kill {
  /** null: no failover within FAILOVER_TIMEOUT_MS. */
  gapMs: number | null;
  switchMs: number | null;
  detectMs: number | null;
  fromHost: string;
  toHost: string | null;
}

async function switchesSince(page: Page, from: string, after: number): Promise<number | null> {
  return page.evaluate(
    ({ from, after }) => {
      const l = (window as unknown as { __lockstep?: { switches?: Array<{ at: number; from: string | null }> } })
        .__lockstep;
      const hit = (l?.switches ?? []).find((s) => s.from === from && s.at >= after);
      return hit ? hit.at : null;
    },
    { from, after },
  );
}

async function oneMode(c: Cluster, viewer: ViewerClient, mode: Mode, add: (r: BenchResult) => void): Promise<void> {
  const sessionId = await createSession(c, viewer, { width: WIDTH, height: HEIGHT, replicationFactor: REPLICAS });
  // A second socket joined to the session sees what the server decides, when it decides it.
  const observer = await connectViewer(c);
  const updates: Array<{ at: number; replicas: Map<string, string> }> = [];
  observer.socket.on('notify', (n: ViewerNotification) => {
    if (n.type === 'session.update' && n.session.sessionId === sessionId)
      updates.push({ at: Date.now(), replicas: new Map(n.session.replicas.map((r) => [r.replicaId, r.state])) });
  });
  await observer.request({ type: 'session.join', sessionId, clientId: 'bench-observer' });
  let browser: TestBrowser | undefined;
  let typing = true;
  let typist: Promise<void> = Promise.resolve();
  const restarts: Array<Promise<unknown>> = [];
  const kills: Kill[] = [];
  const skipped: string[] = [];
  try {
    browser = await launchChromium();
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await openBenchViewer(page, c, sessionId, mode);
    await waitForStreams(page, REPLICAS, mode);
    typist = (async () => {
      for (let i = 0; typing; i++) {
        await page.keyboard.type(TYPED[i % TYPED.length] ?? 'x').catch(() => undefined);
        await sleep(TYPE_EVERY_MS);
      }
    })();
    const load0 = load1m();
    const started = Date.now();
    while (kills.length < TARGET_KILLS && Date.now() - started < MODE_BUDGET_MS) {
      // R restored, and the viewer consumes every replica again.
      const t0 = Date.now();
      try {
        await waitFor(
          'R restored',
          async () => fullStrength(await fetchSession(c, sessionId), REPLICAS, MAX_LAG) || undefined,
          30_000,
          100,
        );
        const t1 = Date.now();
        await waitForStreams(page, REPLICAS, mode, 15_000);
        debug(`R restored in ${t1 - t0} ms, viewer streams ${Date.now() - t1} ms later`);
      } catch (err) {
        skipped.push(err instanceof Error ? err.message : String(err));
        break;
      }
      await sleep(SETTLE_MS);
      const st = await viewerPageState(page);
      const host = st?.liveHostId;
      const node = host ? c.nodes.get(host) : undefined;
      if (!st?.liveReplicaId || !host || !node) {
        skipped.push('no live replica to kill');
        continue;
      }
      const killedReplica = st.liveReplicaId;
      const killedAt = Date.now();
      await node.kill('SIGKILL');
      const obs = await observeFailover(page, killedReplica, st.displayedSeq, killedAt, FAILOVER_TIMEOUT_MS).catch(
        () => undefined,
      );
      restarts.push(
        sleep(RESTART_AFTER_MS)
          .then(() => startClusterNode(c, host))
          .catch((err: unknown) => skipped.push(`restart of ${host}: ${String(err)}`)),
      );
      if (!obs) {
        kills.push({ gapMs: null, switchMs: null, detectMs: null, fromHost: host, toHost: null });
        await restarts.at(-1);
        continue;
      }
      const switchAt = await switchesSince(page, killedReplica, killedAt - 50);
      const detected = updates.find((u) => u.at >= killedAt && u.replicas.get(killedReplica) !== 'live');
      kills.push({
        gapMs: obs.gapMs,
        switchMs: switchAt === null ? null : switchAt - killedAt,
        detectMs: detected ? detected.at - killedAt : null,
        fromHost: host,
        toHost: obs.toHost,
      });
      debug(`kill ${kills.length}: ${host} → ${obs.toHost ?? '?'} gap ${obs.gapMs} ms`);
      // Wait for the restart before checking R, so the next kill never races it.
      const t2 = Date.now();
      await restarts.at(-1);
      debug(`node restarted ${Date.now() - t2} ms after the failover (${Date.now() - killedAt} ms after the kill)`);
    }
    const seconds = round((Date.now() - started) / 1000, 1);
    typing = false;
    await typist;
    const gap = summarizeWithTimeouts(
      kills.map((k) => k.gapMs),
      FAILOVER_TIMEOUT_MS,
    );
    const sw = summarize(kills.flatMap((k) => (k.switchMs === null ? [] : [k.switchMs])));
    const det = summarize(kills.flatMap((k) => (k.detectMs === null ? [] : [k.detectMs])));
    const base = `failover.${mode}`;
    add({
      name: `${base}.gap.p50`,
      value: gap.p50,
      unit: 'ms',
      detail: {
        p95: gap.p95,
        max: gap.max,
        mean: gap.mean,
        kills: gap.n,
        timeouts: gap.timeouts,
        timeoutMs: FAILOVER_TIMEOUT_MS,
        seconds,
        viewerSwitchP50: sw.p50,
        viewerSwitchP95: sw.p95,
        serverDetectP50: det.p50,
        serverDetectP95: det.p95,
        size: `${WIDTH}x${HEIGHT}`,
        load1m: round((load0 + load1m()) / 2),
        ...(skipped.length > 0 ? { skipped: skipped.length, firstSkip: skipped[0]?.slice(0, 120) ?? '' } : {}),
        note: 'SIGKILL of the shown renderer → first frame from another replica at least as fresh',
      },
    });
    add({ name: `${base}.gap.p95`, value: gap.p95, unit: 'ms' });
    add({
      name: `${base}.server-detect.p50`,
      value: det.p50,
      unit: 'ms',
      detail: { p95: det.p95, max: det.max, kills: det.n, note: 'SIGKILL → session.update without the replica live' },
    });
  } finally {
    typing = false;
    await typist;
    await Promise.allSettled(restarts);
    await browser?.close();
    observer.close();
    await viewer.request({ type: 'sessions.close', sessionId }).catch(() => undefined);
  }
}

export async function runFailover(
  onResult: (r: BenchResult) => void = () => {},
  modes: readonly Mode[] = MODES,
): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  let cluster: Cluster | undefined;
  let viewer: ViewerClient | undefined;
  try {
    cluster = await startCluster(HOSTS);
    viewer = await connectViewer(cluster);
    for (const mode of modes) await oneMode(cluster, viewer, mode, add);
  } finally {
    viewer?.close();
    await stopAll();
    if (cluster) removeDir(cluster.server.dataDir);
  }
  return results;
}

if (isMain(import.meta.url)) {
  const mode = process.argv[process.argv.indexOf('--mode') + 1];
  const modes = MODES.filter((m) => !process.argv.includes('--mode') || m === mode);
  await runFailover((r) => console.log(formatResult(r), r.detail ? JSON.stringify(r.detail) : ''), modes);
}
