// CPU of each renderer node process while a real viewer (headless Chromium,
// warm or hot standbys) types ~9 keys/s into a 1280×720 writer session of 3
// replicas on 3 nodes: the node whose stream is shown next to the standbys.
// Warm standbys have no resumed consumer, so they should cost almost nothing.
// Then the floor: the same session with no viewer video at all (every replica
// unwatched) and a socket typist, so no probe or switch mixes into the figure.
// Each window follows WARMUP_MS (15 s) of the same typing into the same session:
// the first 15-20 s of typing into fresh node processes compile the input path
// (V8's compiler threads; until then the interpreter runs it) and hold the
// session start's thumbnail exchange (a standby draws its state for one or two
// thumbnails the server then declines), ~1 % of a core per standby over a 10 s
// window that a standby running for the session's life does not pay again
// (docs/standby-cost.md, sixth pass). The warm-up is measured too and reported
// beside each figure (`warmupStandbyPercent`, `warmupShownPercent`), not dropped.
// Usage: tsx bench/standby-cpu.ts [--mode warm|hot]
import { launchChromium, type TestBrowser } from '../scripts/lib/chromium.js';
import { removeDir, stopAll } from '../scripts/lib/launcher.js';
import { viewerPageState } from '../scripts/lib/viewer-page.js';
import {
  connectViewer,
  cpuSeconds,
  createSession,
  fetchSession,
  openBenchViewer,
  pageStreams,
  pacedPresses,
  nodeThreadSplit,
  nodeThreadTicks,
  pidOf,
  pressOverSocket,
  sleep,
  startCluster,
  waitForStreams,
} from './lib/cluster.js';
import { collector, formatResult, isMain, load1m, round, type BenchResult } from './lib/report.js';
import type { Page } from 'playwright-core';
import type { ViewerClient } from '../scripts/lib/viewer-client.js';
import type { Cluster } from './lib/cluster.js';

const HOSTS = ['cpu-host-1', 'cpu-host-2', 'cpu-host-3'];
const WINDOW_MS = 10_000;
/** Typing before each window (BENCH_STANDBY_WARMUP_MS; 0: none, the window starts cold as it did before). */
const WARMUP_MS = Number(process.env.BENCH_STANDBY_WARMUP_MS ?? 15_000);
const KEY_INTERVAL_MS = 110;
const TYPED = 'the quick brown fox jumps over the lazy dog ';

export async function runStandbyCpu(
  onResult: (r: BenchResult) => void = () => undefined,
  modes: ReadonlyArray<'warm' | 'hot'> = ['warm', 'hot'],
): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  const c = await startCluster(HOSTS);
  let browser: TestBrowser | undefined;
  try {
    const viewer = await connectViewer(c);
    browser = await launchChromium();
    for (const mode of modes) {
      const sessionId = await createSession(c, viewer, { width: 1280, height: 720, replicationFactor: 3 });
      const page = await browser.context.newPage();
      await openBenchViewer(page, c, sessionId, mode);
      await waitForStreams(page, 3, mode);
      await sleep(2000);
      const before = await viewerPageState(page);
      const shownHost = before?.liveHostId ?? null;
      const pids = new Map([...c.nodes].map(([host, proc]) => [host, pidOf(proc)]));
      const press = (i: number) => page.keyboard.press(TYPED[i % TYPED.length] ?? 'x');
      const warm = await warmUp(pids, press);
      const c0 = new Map([...pids].map(([h, pid]) => [h, cpuSeconds(pid)]));
      const t0 = new Map([...pids].map(([h, pid]) => [h, nodeThreadTicks(pid)]));
      const load0 = load1m();
      const probes0 = await probeCounts(page);
      const resumed = resumedTime(page);
      const keys0 = warm.keys;
      const { keys, seconds } = await pacedPresses(WINDOW_MS, KEY_INTERVAL_MS, (i) => press(keys0 + i));
      const pct = new Map([...pids].map(([h, pid]) => [h, (100 * (cpuSeconds(pid) - (c0.get(h) ?? 0))) / seconds]));
      const threads = new Map(
        [...pids].map(([h, pid]) => [h, nodeThreadSplit(t0.get(h) ?? new Map(), nodeThreadTicks(pid), seconds)]),
      );
      const resumedMs = await resumed.stop();
      const probes1 = await probeCounts(page);
      const hostOf = new Map((await fetchSession(c, sessionId)).replicas.map((r) => [r.hostId, r.replicaId]));
      // A switch inside the window (a loaded box) mixes shown and standby work: say so beside the figure.
      const after = await viewerPageState(page);
      const switches = Math.max(
        (after?.switches ?? 0) - (before?.switches ?? 0),
        after?.liveHostId === shownHost ? 0 : 1,
      );
      const shown = shownHost === null ? Number.NaN : (pct.get(shownHost) ?? Number.NaN);
      const standbyHosts = [...pct.keys()].filter((h) => h !== shownHost);
      const standbys = standbyHosts.map((h) => pct.get(h) ?? Number.NaN);
      const standby = standbys.reduce((a, b) => a + b, 0) / Math.max(1, standbys.length);
      const warmStandbys = standbyHosts.map((h) => warm.pct.get(h) ?? Number.NaN);
      const detail = {
        shownPercent: round(shown, 1),
        standbyPercents: standbys.map((v) => round(v, 1)).join(' / '),
        standbyToShown: round(standby / shown, 3),
        // Where each standby's CPU went in the window: the JavaScript main thread, wrtc's native threads, the rest.
        standbyThreads: standbyHosts.map((h) => splitText(threads.get(h))).join(' / '),
        shownThreads: shownHost === null ? '' : splitText(threads.get(shownHost)),
        // The same typing before the window, into the fresh session (see the header): not a steady cost.
        warmupSeconds: round(warm.seconds, 1),
        warmupStandbyPercent: round(warmStandbys.reduce((a, b) => a + b, 0) / Math.max(1, warmStandbys.length), 1),
        warmupShownPercent: shownHost === null ? Number.NaN : round(warm.pct.get(shownHost) ?? Number.NaN, 1),
        // A standby the viewer resumed inside the window (a probe: warm mode's check of a suspect shown
        // stream, viewer/stream-manager.ts) rendered and encoded meanwhile, as a watched replica does.
        standbyResumedMs: standbyHosts.map((h) => Math.round(resumedMs.get(hostOf.get(h) ?? '') ?? 0)).join(' / '),
        // Suspicions of the shown stream (each a chance to probe) and the probes started, in the window.
        suspicionsInWindow: probes1.suspicions - probes0.suspicions,
        probesInWindow: probes1.started - probes0.started,
        keysPerSecond: round(keys / seconds, 1),
        switchesInWindow: switches,
        load1m: round((load0 + load1m()) / 2),
      };
      add({ name: `standby-cpu.1280x720.${mode}.standby`, value: round(standby, 1), unit: '% of one core', detail });
      add({ name: `standby-cpu.1280x720.${mode}.shown`, value: round(shown, 1), unit: '% of one core' });
      await page.close();
      await viewer.request({ type: 'sessions.close', sessionId });
    }
    await unwatchedFloor(c, viewer, add);
    viewer.close();
  } finally {
    await browser?.close();
    await stopAll();
    removeDir(c.server.dataDir);
  }
  return results;
}

/** The viewer's suspicions and probes so far (warm mode, viewer/probe-policy.ts); 0 where the page does not say. */
async function probeCounts(page: Page): Promise<{ suspicions: number; started: number }> {
  const c = await page.evaluate(
    () =>
      (window as unknown as { __lockstep?: { probes?: { suspicions: number; started: number } } }).__lockstep?.probes,
  );
  return { suspicions: c?.suspicions ?? 0, started: c?.started ?? 0 };
}

/** How long each stream (replica id) was resumed in the viewer from now until stop(), polled every 100 ms. */
function resumedTime(page: Page): { stop(): Promise<Map<string, number>> } {
  const ms = new Map<string, number>();
  let running = true;
  const polling = (async () => {
    let last = performance.now();
    while (running) {
      await sleep(100);
      const streams = await pageStreams(page).catch(() => []);
      const now = performance.now();
      for (const s of streams) if (s.resumed) ms.set(s.replicaId, (ms.get(s.replicaId) ?? 0) + now - last);
      last = now;
    }
  })();
  return {
    stop: async () => {
      running = false;
      await polling;
      return ms;
    },
  };
}

/** Every replica unwatched (nobody consumes video), typed into over the viewer socket: the per-standby floor. */
async function unwatchedFloor(c: Cluster, viewer: ViewerClient, add: (r: BenchResult) => void): Promise<void> {
  const sessionId = await createSession(c, viewer, { width: 1280, height: 720, replicationFactor: 3 });
  await viewer.request({ type: 'session.join', sessionId, clientId: 'bench-typist' });
  await sleep(2000);
  const byHost = new Map([...c.nodes].map(([host, proc]) => [host, pidOf(proc)]));
  const pids = [...byHost.values()];
  const press = (i: number) => pressOverSocket(viewer, sessionId, TYPED[i % TYPED.length] ?? 'x');
  const warm = await warmUp(byHost, press);
  const c0 = pids.map(cpuSeconds);
  const t0 = pids.map(nodeThreadTicks);
  const load0 = load1m();
  const { keys, seconds } = await pacedPresses(WINDOW_MS, KEY_INTERVAL_MS, (i) => press(warm.keys + i));
  const pct = pids.map((pid, i) => (100 * (cpuSeconds(pid) - (c0[i] ?? 0))) / seconds);
  const threads = pids.map((pid, i) => nodeThreadSplit(t0[i] ?? new Map(), nodeThreadTicks(pid), seconds));
  const warmPct = [...warm.pct.values()];
  add({
    name: 'standby-cpu.1280x720.unwatched.standby',
    value: round(pct.reduce((a, b) => a + b, 0) / pct.length, 1),
    unit: '% of one core',
    detail: {
      processPercents: pct.map((v) => round(v, 1)).join(' / '),
      processThreads: threads.map(splitText).join(' / '),
      warmupSeconds: round(warm.seconds, 1),
      warmupPercent: round(warmPct.reduce((a, b) => a + b, 0) / Math.max(1, warmPct.length), 1),
      keysPerSecond: round(keys / seconds, 1),
      load1m: round((load0 + load1m()) / 2),
      note: 'each node process, no viewer video (every replica a warm standby), key down + up over the viewer socket',
    },
  });
  await viewer.request({ type: 'sessions.close', sessionId });
}

/** WARMUP_MS of the bench's typing, and each node process's CPU (host → % of one core) while it went on. */
async function warmUp(
  pids: ReadonlyMap<string, number>,
  press: (i: number) => Promise<void>,
): Promise<{ keys: number; seconds: number; pct: Map<string, number> }> {
  if (WARMUP_MS <= 0) return { keys: 0, seconds: 0, pct: new Map() };
  const c0 = new Map([...pids].map(([h, pid]) => [h, cpuSeconds(pid)]));
  const { keys, seconds } = await pacedPresses(WARMUP_MS, KEY_INTERVAL_MS, press);
  const pct = new Map([...pids].map(([h, pid]) => [h, (100 * (cpuSeconds(pid) - (c0.get(h) ?? 0))) / seconds]));
  return { keys, seconds, pct };
}

/** "main 0.6 + wrtc 0.4 + other 0.2" (% of one core). */
function splitText(parts: Record<string, number> | undefined): string {
  if (!parts) return '';
  return ['main', 'wrtc', 'other'].map((k) => `${k} ${round(parts[k] ?? 0, 2)}`).join(' + ');
}

if (isMain(import.meta.url)) {
  const i = process.argv.indexOf('--mode');
  const mode = process.argv[i + 1];
  const modes: Array<'warm' | 'hot'> = mode === 'warm' || mode === 'hot' ? [mode] : ['warm', 'hot'];
  runStandbyCpu((r) => console.log(formatResult(r)), modes).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
