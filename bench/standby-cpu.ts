// CPU of each renderer node process while a real viewer (headless Chromium,
// warm or hot standbys) types ~9 keys/s into a 1280×720 writer session of 3
// replicas on 3 nodes: the node whose stream is shown next to the standbys.
// Warm standbys have no resumed consumer, so they should cost almost nothing.
// Then the floor: the same session with no viewer video at all (every replica
// unwatched) and a socket typist, so no probe or switch mixes into the figure.
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
      const c0 = new Map([...pids].map(([h, pid]) => [h, cpuSeconds(pid)]));
      const load0 = load1m();
      const probes0 = await probeCounts(page);
      const resumed = resumedTime(page);
      const { keys, seconds } = await pacedPresses(WINDOW_MS, KEY_INTERVAL_MS, (i) =>
        page.keyboard.press(TYPED[i % TYPED.length] ?? 'x'),
      );
      const pct = new Map([...pids].map(([h, pid]) => [h, (100 * (cpuSeconds(pid) - (c0.get(h) ?? 0))) / seconds]));
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
      const detail = {
        shownPercent: round(shown, 1),
        standbyPercents: standbys.map((v) => round(v, 1)).join(' / '),
        standbyToShown: round(standby / shown, 3),
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
  const pids = [...c.nodes.values()].map(pidOf);
  const c0 = pids.map(cpuSeconds);
  const load0 = load1m();
  const { keys, seconds } = await pacedPresses(WINDOW_MS, KEY_INTERVAL_MS, (i) =>
    pressOverSocket(viewer, sessionId, TYPED[i % TYPED.length] ?? 'x'),
  );
  const pct = pids.map((pid, i) => (100 * (cpuSeconds(pid) - (c0[i] ?? 0))) / seconds);
  add({
    name: 'standby-cpu.1280x720.unwatched.standby',
    value: round(pct.reduce((a, b) => a + b, 0) / pct.length, 1),
    unit: '% of one core',
    detail: {
      processPercents: pct.map((v) => round(v, 1)).join(' / '),
      keysPerSecond: round(keys / seconds, 1),
      load1m: round((load0 + load1m()) / 2),
      note: 'each node process, no viewer video (every replica a warm standby), key down + up over the viewer socket',
    },
  });
  await viewer.request({ type: 'sessions.close', sessionId });
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
