// The chaos run: a scripted typist in headless Chromium types at a steady rate
// while faults hit random renderer hosts (each in its own network namespace
// when possible) and, a few times, the server. Measures per fault the
// viewer's visible gap, the server's detection time and the time to restore
// R; at the end compares what was typed with every replica's final state.
import type { Page } from 'playwright-core';
import type { SessionInfo } from '../../protocol/session.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import { percentile, summarizeWithTimeouts } from '../../bench/lib/report.js';
import { launchChromium } from './chromium.js';
import { hang, partition, slow, type ActiveFault, type FaultKind } from './faults.js';
import { HostNetwork } from './host-network.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from './launcher.js';
import { prng } from './prng.js';
import { referenceState } from './reference-state.js';
import { SessionObserver } from './session-observer.js';
import { getSession } from './session-rest.js';
import { ViewerClient } from './viewer-client.js';
import { openViewer, viewerPageState, type ViewerPageState } from './viewer-page.js';
import { startPageTypist } from './page-typist.js';
import { waitFor } from './wait-for.js';

/** What every chaos run takes: how long and fast the typist types, the session's shape, the network. */
export interface ChaosTypingOptions {
  seconds: number;
  keysPerSecond: number;
  replicationFactor: number;
  seed: number;
  width: number;
  height: number;
  loopback?: boolean;
  log?: (line: string) => void;
}

export interface ChaosOptions extends ChaosTypingOptions {
  hosts: number;
  /** How many server crash-restarts to spread over the run. */
  serverRestarts: number;
  /** How long a hang, partition or slow-down lasts. */
  faultMs: number;
  /** Fault kinds drawn from (default: all the network allows); a server restart is scheduled by serverRestarts. */
  kinds?: readonly FaultKind[];
  /** Share of host faults aimed at the host on screen (default 0.6). */
  shownShare?: number;
}

export interface FaultRecord {
  kind: FaultKind;
  hostId: string;
  /** The viewer was showing this host when the fault hit. */
  shown: boolean;
  /** ms until the viewer showed a frame at least as fresh as what was acknowledged at the fault. */
  visibleGapMs: number | null;
  /** ms until the server's first session.update judging the host's replica stale or dead, or without it live (null: it never did). */
  detectMs: number | null;
  /** ms until R replicas were live again on healthy hosts. */
  restoreMs: number | null;
}

/** Visible gaps of one fault kind; null without samples, timeouts counted at the bound. */
export interface GapSummary {
  gapP50: number | null;
  gapP95: number | null;
  gapMax: number | null;
  /** Faults whose gap never closed within the fault's watch: in the percentiles at that bound. */
  gapTimeouts: number;
}

export function gapSummary(gaps: ReadonlyArray<number | null>, boundMs: number): GapSummary {
  const gap = summarizeWithTimeouts(gaps, boundMs);
  return {
    gapP50: gap.n ? gap.p50 : null,
    gapP95: gap.n ? gap.p95 : null,
    gapMax: gap.n ? gap.max : null,
    gapTimeouts: gap.timeouts,
  };
}

/** What the typing came to: typed against the final document, and the replicas' final hashes. */
export interface TypingOutcome {
  typedChars: number;
  loggedKeystrokes: number;
  lostInputs: number;
  textMatches: boolean;
  finalHashes: string[];
  hashesEqual: boolean;
}

export function typingOutcome(typed: string, text: string, hashes: string[], replicas: number): TypingOutcome {
  return {
    typedChars: typed.length,
    loggedKeystrokes: text.length,
    lostInputs: typed.length - text.length,
    textMatches: text === typed,
    finalHashes: hashes,
    hashesEqual: hashes.length >= replicas && hashes.every((h) => h === hashes[0]),
  };
}

export interface ChaosReport extends TypingOutcome {
  network: 'netns' | 'loopback';
  seconds: number;
  seed: number;
  faults: FaultRecord[];
  byKind: Record<string, GapSummary & { count: number; detectP50: number | null; restoreP50: number | null }>;
  staleShown: number;
}

/** Nearest-rank percentile (bench/lib/report.ts), null for no samples. */
function pct(xs: number[], p: number): number | null {
  return xs.length === 0 ? null : percentile(xs, p);
}

/** How long after a fault ends its gap, detection and restore are watched for. */
const WATCH_AFTER_FAULT_MS = 15_000;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function atStrength(s: SessionInfo, r: number, avoid?: string): boolean {
  const live = s.replicas.filter((x) => x.state === 'live' && x.hostId !== avoid && x.health.heartbeatAgeMs < 1500);
  return live.length >= r && new Set(live.map((x) => x.hostId)).size >= r;
}

/** Creates the chaos runs' writer session through the server at `url`; resolves with its id. */
export async function createWriterSession(url: string, opts: ChaosTypingOptions): Promise<string> {
  const v = await ViewerClient.connect(url);
  try {
    const { session } = await v.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: opts.replicationFactor,
      width: opts.width,
      height: opts.height,
    });
    return session.sessionId;
  } finally {
    v.close();
  }
}

export async function runChaos(opts: ChaosOptions): Promise<ChaosReport> {
  const say = opts.log ?? (() => undefined);
  const rand = prng(opts.seed);
  const net = HostNetwork.create({ loopback: opts.loopback, log: say });
  const browser = await launchChromium();
  const nodes = new Map<string, Proc>();
  let server: ServerProc | undefined;
  try {
    const serverEnv = { LOCKSTEP_HOST: net.serverIp, LOCKSTEP_LISTEN_IP: net.serverIp };
    server = await startServer({ env: serverEnv });
    const port = Number(new URL(server.url).port);
    const dataDir = server.dataDir;
    const hostIds = Array.from({ length: opts.hosts }, (_, i) => `host-${i + 1}`);
    const startHost = async (h: string) => {
      const host = net.hosts.get(h) ?? net.addHost(h);
      const p = await startNode({ url: server?.url ?? '', hostId: h, ...(host.netns ? { netns: host.netns } : {}) });
      nodes.set(h, p);
      return p;
    };
    for (const h of hostIds) await startHost(h);
    const sessionId = await createWriterSession(server.url, opts);
    const info = () => getSession(server?.url ?? '', sessionId);
    await waitFor('R live', async () => atStrength(await info(), opts.replicationFactor), 30_000);
    // The server's own reactions, as pushed to viewers (reconnected after a server restart).
    let observer = await SessionObserver.create(server.url, sessionId);

    const page: Page = await browser.context.newPage();
    await openViewer(page, server.url, sessionId, 'warm');
    say(`typing at ${opts.keysPerSecond} keys/s for ${opts.seconds} s on ${opts.hosts} hosts (${net.mode})`);

    const typist = startPageTypist(
      page,
      opts.keysPerSecond,
      'replicas keep the session alive while hosts crash hang and lose their network ',
    );

    // Watches the viewer: once a fault has had 2 s to be detected, and until
    // 5 s after the host came back, showing that host's picture more than a
    // second behind what was acknowledged counts as "shown stale".
    let staleShown = 0;
    const fault: { current: { host: string; since: number; until: number } | null } = { current: null };
    let watching = true;
    const behindSeqs = 2 * opts.keysPerSecond; // one second of typing (key down + up)
    const watcher = (async () => {
      while (watching) {
        const st = await viewerPageState(page).catch(() => null);
        const now = Date.now();
        const f = fault.current;
        if (
          st &&
          f &&
          now - f.since > 2000 &&
          now < f.until &&
          st.liveHostId === f.host &&
          st.ackedSeq - st.displayedSeq > behindSeqs
        ) {
          staleShown++;
        }
        await sleep(100);
      }
    })();

    const faults: FaultRecord[] = [];
    const deadline = Date.now() + opts.seconds * 1000;
    const possible: FaultKind[] =
      net.mode === 'netns' ? ['crash', 'hang', 'partition', 'slow'] : ['crash', 'hang', 'slow'];
    const kinds = possible.filter((k) => !opts.kinds || opts.kinds.includes(k));
    if (kinds.length === 0) throw new Error(`no fault kind of ${opts.kinds?.join(', ')} is possible on ${net.mode}`);
    const shownShare = opts.shownShare ?? 0.6;
    const restartEvery =
      opts.serverRestarts > 0 ? Math.floor(opts.seconds / (opts.serverRestarts + 1)) * 1000 : Infinity;
    let nextRestart = Date.now() + restartEvery;
    while (Date.now() + opts.faultMs + 3000 < deadline) {
      await sleep(1500 + rand() * 1500);
      // The previous fault's watch window ends here: what follows belongs to the next fault.
      fault.current = null;
      const before: ViewerPageState | null = await viewerPageState(page);
      const t0 = Date.now();
      const ackedAtFault = before?.ackedSeq ?? 0;
      let kind: FaultKind;
      let hostId: string;
      let active: ActiveFault | null = null;
      if (Date.now() >= nextRestart) {
        nextRestart += restartEvery;
        kind = 'server-restart';
        hostId = 'server';
        await server.kill('SIGKILL');
        observer.close();
        server = await startServer({ dataDir, port, env: serverEnv });
        // The restart's own share of the gap (process start, database open) on this machine now.
        say(`  server back after ${Date.now() - t0} ms`);
        observer = await SessionObserver.create(server.url, sessionId);
      } else {
        kind = kinds[Math.floor(rand() * kinds.length)] ?? 'crash';
        // Faults that matter hit hosts serving the session, most often the one on screen.
        const live = before?.liveHostId;
        const serving = (await info()).replicas.map((r) => r.hostId).filter((h) => nodes.has(h));
        hostId =
          live && rand() < shownShare ? live : (serving[Math.floor(rand() * serving.length)] ?? live ?? 'host-1');
        const proc = nodes.get(hostId);
        if (!proc) continue;
        fault.current = { host: hostId, since: Date.now(), until: Infinity };
        if (kind === 'crash') await proc.kill('SIGKILL');
        else if (kind === 'hang') active = hang(proc, hostId);
        else if (kind === 'partition') active = partition(net, hostId);
        else active = slow(proc, hostId, 5);
      }
      const shown = before?.liveHostId === hostId || kind === 'server-restart';
      say(`${kind} ${hostId}${shown ? ' (shown)' : ''}`);

      let visibleGapMs: number | null = null;
      let detectMs: number | null = null;
      let restoreMs: number | null = null;
      const limit = t0 + opts.faultMs + WATCH_AFTER_FAULT_MS;
      let undone = false;
      while (
        Date.now() < limit &&
        (visibleGapMs === null || restoreMs === null || (detectMs === null && kind !== 'slow'))
      ) {
        const now = Date.now();
        if (!undone && active && now - t0 >= opts.faultMs) {
          active.undo();
          undone = true;
          if (fault.current) fault.current.until = now + 5000;
        }
        const st = await viewerPageState(page).catch(() => null);
        if (
          visibleGapMs === null &&
          st &&
          st.displayedSeq >= ackedAtFault &&
          (st.liveHostId !== hostId || kind === 'slow' || kind === 'server-restart')
        ) {
          visibleGapMs = shown ? now - t0 : 0;
        }
        if (detectMs === null && kind !== 'server-restart') detectMs = observer.reactionAfter(hostId, t0);
        const s = await info().catch(() => null);
        if (s) {
          const avoid = kind === 'slow' || kind === 'server-restart' ? undefined : hostId;
          if (restoreMs === null && atStrength(s, opts.replicationFactor, avoid)) restoreMs = now - t0;
        }
        if (kind === 'slow' && restoreMs !== null && visibleGapMs !== null && now - t0 > opts.faultMs) break;
        await sleep(50);
      }
      if (active && !undone) {
        active.undo();
        if (fault.current) fault.current.until = Date.now() + 5000;
      }
      faults.push({ kind, hostId, shown, visibleGapMs, detectMs, restoreMs });
      say(`  gap ${visibleGapMs ?? '-'} ms, detected ${detectMs ?? '-'} ms, R restored ${restoreMs ?? '-'} ms`);
      // A crashed PC reboots and rejoins.
      if (kind === 'crash') await startHost(hostId);
      await waitFor(
        'R before the next fault',
        async () => atStrength(await info(), opts.replicationFactor),
        30_000,
      ).catch(() => undefined);
    }
    await typist.stop();
    const typed = typist.typed();
    watching = false;
    await watcher;
    observer.close();

    await waitFor('inputs acknowledged', async () => (await viewerPageState(page))?.pendingInputs === 0, 30_000);
    const final = await waitFor(
      'replicas converged',
      async () => {
        const s = await info();
        const live = s.replicas.filter((r) => r.state === 'live');
        return live.length >= opts.replicationFactor &&
          live.every((r) => r.appliedSeq === s.headSeq && r.stateHash === live[0]?.stateHash)
          ? s
          : undefined;
      },
      30_000,
    ).catch(() => info());
    const state = (await referenceState(server.url, 'writer', opts.width, opts.height, sessionId)) as WriterState;
    const live = final.replicas.filter((r) => r.state === 'live');
    const hashes = live.map((r) => r.stateHash ?? '');
    const byKind: ChaosReport['byKind'] = {};
    for (const k of new Set(faults.map((f) => f.kind))) {
      const fs = faults.filter((f) => f.kind === k);
      const det = fs.flatMap((f) => (f.detectMs === null ? [] : [f.detectMs]));
      const res = fs.flatMap((f) => (f.restoreMs === null ? [] : [f.restoreMs]));
      byKind[k] = {
        count: fs.length,
        ...gapSummary(
          fs.filter((f) => f.shown).map((f) => f.visibleGapMs),
          opts.faultMs + WATCH_AFTER_FAULT_MS,
        ),
        detectP50: pct(det, 50),
        restoreP50: pct(res, 50),
      };
    }
    return {
      network: net.mode,
      seconds: opts.seconds,
      seed: opts.seed,
      faults,
      byKind,
      ...typingOutcome(typed, state.text, hashes, opts.replicationFactor),
      staleShown,
    };
  } finally {
    await browser.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
    net.close();
  }
}

/** The report as a markdown table (bench/results/chaos.md). */
export function chaosMarkdown(r: ChaosReport): string {
  const rows = Object.entries(r.byKind).map(
    ([k, v]) =>
      `| ${k} | ${v.count} | ${v.gapP50 ?? '–'} | ${v.gapP95 ?? '–'} | ${v.gapMax ?? '–'} | ${v.gapTimeouts} | ${v.detectP50 ?? '–'} | ${v.restoreP50 ?? '–'} |`,
  );
  return [
    `# Chaos run (${r.seconds} s, ${r.network}, seed ${r.seed})`,
    '',
    '| fault | count | visible gap p50 (ms) | p95 | max | gap timeouts (at the bound) | server reaction p50 (ms) | R restored p50 (ms) |',
    '|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    `Typed ${r.typedChars} characters; the final document holds ${r.loggedKeystrokes}; lost inputs: ${r.lostInputs}; document equals what was typed: ${r.textMatches}.`,
    `Final replica hashes equal: ${r.hashesEqual} (${r.finalHashes.join(', ')}). Stale frames shown from a faulty host: ${r.staleShown}.`,
    '',
  ].join('\n');
}
