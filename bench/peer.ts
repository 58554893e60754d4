// Lockstep against a VNC peer, side by side in one invocation, with one
// black-box method for both: keydown → first displayed frame whose pixels
// changed (lib/pixel-watch.ts, in the page), real headless Chromium, loopback.
// The peer: Xtigervnc + xterm, websockify + noVNC (Debian packages, installed
// by scripts/install-peer.sh). Lockstep: the demo's shape (3 replicas on 3
// renderer nodes, warm standbys, a 1280x720 writer with a page of text).
// Each system gets a fresh Chromium (same binary, flags and 1400x900 window).
// Also the viewer's cost, measured the same way for both: PSS and CPU of all
// Chromium processes while typing 10 keys/s for 10 s; and, for Lockstep, the
// stamp-based split of its latency (bench/latency.ts) over the same keystrokes.
// Lockstep's viewer runs as shipped: frame stamps from a track processor (read at decode, so the stamp split
// ends there and has no presentation stages; its figures say `stamps`). The pixel probe is the bench's own
// and does not depend on the viewer's stamps. LOCKSTEP_VIEWER_STAMPS=frame: the viewer on frame callbacks.
// Three runs, alternating which system goes first; each figure is the median run with the spread.
// Usage: tsx bench/peer.ts (LOCKSTEP_BENCH_PEER_REPEAT=n for n runs)
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CDPSession, Page } from 'playwright-core';
import { STAMP_HEIGHT } from '../protocol/frame-stamp.js';
import { launchChromium, type TestBrowser } from '../scripts/lib/chromium.js';
import { removeDir, ROOT, stopAll } from '../scripts/lib/launcher.js';
import type { ViewerClient } from '../scripts/lib/viewer-client.js';
import { waitFor } from '../scripts/lib/wait-for.js';
import type { LatencySample } from '../viewer/lockstep-hook.js';
import {
  cmdlineOf,
  commOf,
  connectViewer,
  createSession,
  descendantPids,
  openBenchViewer,
  sleep,
  startTracedCluster,
  stampsMeaning,
  waitForStreams,
  type Cluster,
} from './lib/cluster.js';
import { viewerStamps } from '../scripts/lib/viewer-page.js';
import { keystrokes, preload, stage } from './latency.js';
import { nodeSplit, nodeStages, readTraces } from './lib/node-split.js';
import { keystrokeStages, tailSplit } from './lib/tail-split.js';
import { PIXEL_WATCH_SCRIPT, type PixelWatchOptions, type PixelWatchState } from './lib/pixel-watch.js';
import { cpuByLabel, cpuPercent, parseComm, parseCpuTicks, parsePssKiB } from './lib/proc-stats.js';
import { mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { summarizeProfile, type ProfileRow } from './lib/cpu-profile.js';
import { acrossRuns } from './lib/across-runs.js';
import { collector, formatResult, isMain, load1m, machine, round, summarize, type BenchResult } from './lib/report.js';
import { VncPeer } from './lib/vnc-peer.js';

const WIDTH = 1280;
const HEIGHT = 720;
const HOSTS = ['peer-host-1', 'peer-host-2', 'peer-host-3'];
const REPLICAS = 3;
/** Keystrokes measured per system (the latency bench's count and ~9 keys/s cadence). */
const KEYS = Number(process.env.LOCKSTEP_BENCH_KEYS ?? 200);
const KEY_INTERVAL_MS = 110;
/** Runs of the peer and Lockstep side by side (`LOCKSTEP_BENCH_PEER_REPEAT`, default 3). */
const REPEAT = Math.max(1, Number(process.env.LOCKSTEP_BENCH_PEER_REPEAT ?? 3));
const WARMUP_KEYS = 10;
/** The viewer-cost window: 10 keys/s for 10 s. */
const COST_KEYS = 100;
const COST_INTERVAL_MS = 100;
const NOISE_CHECK_MS = 2000;
const TYPED = 'the quick brown fox jumps over the lazy dog ';

/** Which page measure() runs on ('tiles': bench/tile-display.ts's canvas of damage tiles). */
export type System = 'noVNC' | 'lockstep' | 'tiles';

export interface Measured {
  lat: ReturnType<typeof summarize>;
  keydowns: number;
  unresolved: number;
  noiseFrames: number;
  noiseChanged: number;
  readMsPerFrame: number;
  pssMB: number;
  pssMeanMB: number;
  cpuPercent: number;
  /** The same CPU split by Chromium process type (renderer: page, decode, JS; gpu-process: the compositor). */
  cpuByType: Record<string, number>;
  /** The same CPU by thread ("renderer VizCompositorTh": all renderers' threads of that name), 0.5 % or more. */
  cpuByThread: Record<string, number>;
  /** The page's main thread per second (CDP Performance.getMetrics): ms/s of tasks, script, layout, style; counts/s. */
  mainThread: Record<string, number>;
  /** Lockstep: video frames decoded per second over the window (each one decoded, and the shown one drawn). */
  videoFps?: number;
  chromiumProcesses: number;
  load1m: number;
  keysPerSecond: number;
  stamp?: Record<string, number>;
  /** LOCKSTEP_BENCH_PROFILE=dir: the page's main thread by function over the cost window (it perturbs the figures). */
  profile?: ProfileRow[];
}

/**
 * LOCKSTEP_BENCH_PROFILE=dir: a CPU profile of the page's main thread (CDP Profiler, 200 µs sampling) over the
 * cost window, written there as `<system>-<time>.cpuprofile` (DevTools opens it) and summed up in `profile`.
 */
const profileDir = (): string | undefined => process.env.LOCKSTEP_BENCH_PROFILE || undefined;

function ticksPerSecond(): number {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
}

/** This process's Chromium descendants (playwright started them; the cluster's processes are node). */
function chromiumPids(): number[] {
  return descendantPids(process.pid).filter((p) => /chrom/i.test(commOf(p)));
}

function readOr<T>(path: string, parse: (s: string) => number, fallback: T): number | T {
  try {
    return parse(readFileSync(path, 'utf8'));
  } catch {
    return fallback; // the process exited between listing and reading
  }
}

/** A Chromium process's --type (renderer, gpu-process, utility…); the browser process has none. */
function processType(pid: number): string {
  return /--type=([\w-]+)/.exec(cmdlineOf(pid))?.[1] ?? 'browser';
}

function cpuByType(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  seconds: number,
  hz: number,
): Record<string, number> {
  const groups = new Map<string, Map<number, number>>();
  for (const [pid, t] of after) {
    const type = processType(pid);
    const g = groups.get(type) ?? new Map<number, number>();
    g.set(pid, t);
    groups.set(type, g);
  }
  return Object.fromEntries([...groups].map(([type, g]) => [type, round(cpuPercent(before, g, seconds, hz), 1)]));
}

function cpuTicks(pids: readonly number[]): Map<number, number> {
  const m = new Map<number, number>();
  for (const p of pids) {
    const t = readOr(`/proc/${p}/stat`, parseCpuTicks, null);
    if (t !== null && Number.isFinite(t)) m.set(p, t);
  }
  return m;
}

/** Ticks per Chromium thread, keyed "type|thread name|pid/tid" (the thread split of the viewer's CPU). */
function threadTicks(pids: readonly number[]): Map<string, number> {
  const m = new Map<string, number>();
  for (const p of pids) {
    const type = processType(p);
    let tids: string[];
    try {
      tids = readdirSync(`/proc/${p}/task`);
    } catch {
      continue; // exited
    }
    for (const tid of tids) {
      let stat: string;
      try {
        stat = readFileSync(`/proc/${p}/task/${tid}/stat`, 'utf8');
      } catch {
        continue;
      }
      const t = parseCpuTicks(stat);
      if (Number.isFinite(t)) m.set(`${type}|${parseComm(stat)}|${p}/${tid}`, t);
    }
  }
  return m;
}

/** The threads' CPU by "type thread-name", largest first, those of 0.5 % of a core or more. */
function threadSplit(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
  hz: number,
): Record<string, number> {
  const label = (key: string) => key.split('|').slice(0, 2).join(' ');
  return Object.fromEntries(cpuByLabel(before, after, label, seconds, hz, 0.5).map(([k, v]) => [k, round(v, 1)]));
}

const MAIN_THREAD_METRICS = [
  'TaskDuration',
  'ScriptDuration',
  'LayoutDuration',
  'RecalcStyleDuration',
  'LayoutCount',
  'RecalcStyleCount',
];

/** The page's main-thread counters (durations in s, counts) from CDP Performance.getMetrics. */
async function mainThreadMetrics(cdp: CDPSession): Promise<Record<string, number>> {
  const { metrics } = await cdp.send('Performance.getMetrics');
  return Object.fromEntries(metrics.filter((m) => MAIN_THREAD_METRICS.includes(m.name)).map((m) => [m.name, m.value]));
}

function pssKiB(pids: readonly number[]): number {
  let sum = 0;
  for (const p of pids) {
    const v = readOr(`/proc/${p}/smaps_rollup`, parsePssKiB, 0);
    if (Number.isFinite(v)) sum += v;
  }
  return sum;
}

async function typeSteadily(page: Page, n: number, offset: number, everyMs: number): Promise<number> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + i * everyMs - performance.now();
    if (wait > 0) await sleep(wait);
    await page.keyboard.press(TYPED[(offset + i) % TYPED.length] ?? 'x');
  }
  return (performance.now() - t0) / 1000;
}

/** Frames Lockstep's viewer took so far over all its streams (window.__lockstep.streams; none on the noVNC page). */
function decodedFrames(page: Page): Promise<number> {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: { streams?: Array<{ framesSeen?: number }> } }).__lockstep;
    return (l?.streams ?? []).reduce((n, s) => n + (s.framesSeen ?? 0), 0);
  });
}

function watchState(page: Page): Promise<PixelWatchState> {
  return page.evaluate(() => {
    const w = window as unknown as { __pixelWatch: { state: PixelWatchState } };
    const s = w.__pixelWatch.state;
    return { ...s, samples: [...s.samples], keydownAt: [...s.keydownAt] };
  });
}

function stampSamples(page: Page): Promise<LatencySample[]> {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: { latencySamples?: LatencySample[] } }).__lockstep;
    return (l?.latencySamples ?? []).map((s) => ({ ...s }));
  });
}

/** The stamp-based split of Lockstep's latency over the keystrokes the pixel watch measured. */
function stampSplit(samples: LatencySample[], keydownAt: number[]): Record<string, number> {
  const ks = keystrokes(samples, keydownAt);
  const out: Record<string, number> = { stampKeystrokes: ks.length };
  const total = summarize(ks.map((s) => s.shownAt - s.sentAt));
  out.stampP50 = total.p50;
  out.stampP95 = total.p95;
  const stages = {
    toAck: stage(ks, 'sentAt', 'ackedAt'),
    sentToPacketsIn: stage(ks, 'sentAt', 'receivedAt'),
    packetsInToCompositor: stage(ks, 'receivedAt', 'presentedAt'),
    compositorToCallback: stage(ks, 'presentedAt', 'shownAt'),
    compositorToFrame: stage(ks, 'presentedAt', 'frameAt'),
    frameToCallback: stage(ks, 'frameAt', 'shownAt'),
  };
  for (const [k, v] of Object.entries(stages)) {
    if (!v) continue;
    out[`${k}P50`] = v.p50;
    out[`${k}P95`] = v.p95;
  }
  return out;
}

/** Both measurements on an open, focused page: the viewer's cost, then pixel latency. */
export async function measure(
  page: Page,
  watch: PixelWatchOptions,
  system: System,
  traceDir?: string,
): Promise<Measured> {
  await typeSteadily(page, WARMUP_KEYS, 0, KEY_INTERVAL_MS);
  // The viewer's cost while typing, before the probe ever reads a frame: drawing a <video> into a
  // canvas per frame caches a new image each time (hundreds of MB of the tab's discardable memory,
  // kept after the probe stops), a cost of the measurement, not of the viewer.
  await sleep(1000);
  const hz = ticksPerSecond();
  const frames0 = await decodedFrames(page);
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('Performance.enable');
  const PROFILE_DIR = profileDir();
  if (PROFILE_DIR) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  const metrics0 = await mainThreadMetrics(cdp);
  const costFrom = await page.evaluate(() => performance.now());
  const before = cpuTicks(chromiumPids());
  const threadsBefore = threadTicks([...before.keys()]);
  const t0 = performance.now();
  const pss: number[] = [];
  let typing = true;
  const sampler = (async () => {
    while (typing) {
      pss.push(pssKiB(chromiumPids()));
      await sleep(1000);
    }
  })();
  await typeSteadily(page, COST_KEYS, 3, COST_INTERVAL_MS);
  typing = false;
  const costTo = await page.evaluate(() => performance.now());
  await sampler;
  const pids = chromiumPids();
  const after = cpuTicks(pids);
  const threadsAfter = threadTicks(pids);
  const seconds = (performance.now() - t0) / 1000;
  const threads = threadSplit(threadsBefore, threadsAfter, seconds, hz);
  const cpu = cpuPercent(before, after, seconds, hz);
  const byType = cpuByType(before, after, seconds, hz);
  const framesDecoded = (await decodedFrames(page)) - frames0;
  const metrics1 = await mainThreadMetrics(cdp);
  let profile: ProfileRow[] | undefined;
  if (PROFILE_DIR) {
    const { profile: raw } = await cdp.send('Profiler.stop');
    mkdirSync(PROFILE_DIR, { recursive: true });
    writeFileSync(join(PROFILE_DIR, `${system}-${Date.now()}.cpuprofile`), JSON.stringify(raw));
    profile = summarizeProfile(raw);
  }
  const mainThread = Object.fromEntries(
    Object.entries(metrics1).map(([k, v]) => [
      k,
      round(((v - (metrics0[k] ?? 0)) / seconds) * (k.endsWith('Duration') ? 1000 : 1), 1),
    ]),
  );
  await cdp.detach();
  pss.push(pssKiB(pids));
  // Let the warm-up's last frames land first: under load they would count as noise.
  await sleep(2500);
  // How often the picture changes with nobody typing (would fake an early change).
  await page.evaluate(
    (o) => (window as unknown as { __pixelWatch: { start(o: unknown): void } }).__pixelWatch.start(o),
    watch,
  );
  await page.evaluate(() => (window as unknown as { __pixelWatch: { noiseStart(): void } }).__pixelWatch.noiseStart());
  await sleep(NOISE_CHECK_MS);
  await page.evaluate(() => (window as unknown as { __pixelWatch: { noiseStop(): void } }).__pixelWatch.noiseStop());
  const stampBefore = system === 'lockstep' ? (await stampSamples(page)).length : 0;
  const load0 = load1m();
  const typingS = await typeSteadily(page, KEYS, WARMUP_KEYS, KEY_INTERVAL_MS);
  await waitFor(
    'the last keystroke on screen',
    () =>
      page.evaluate(
        () => (window as unknown as { __pixelWatch: { pendingCount(): number } }).__pixelWatch.pendingCount() === 0,
      ),
    3000,
    50,
  ).catch(() => undefined); // unresolved keystrokes are counted below
  await sleep(700); // Lockstep's viewer matches acks to frames every 250 ms
  const st = await watchState(page);
  await page.evaluate(() => (window as unknown as { __pixelWatch: { stop(): void } }).__pixelWatch.stop());
  const lat = summarize(st.samples);
  const stampAll = system === 'lockstep' ? (await stampSamples(page)).slice(stampBefore) : [];
  const stamp = system === 'lockstep' ? stampSplit(stampAll, st.keydownAt) : undefined;
  if (stamp) {
    // Input → ack while typing with no probe reading the picture (the cost window): the probe's reads run
    // on the page's main thread, where the ack's handler runs too.
    const quiet = stage(
      (await stampSamples(page)).filter((s) => s.sentAt >= costFrom && s.sentAt <= costTo),
      'sentAt',
      'ackedAt',
    );
    if (quiet) Object.assign(stamp, { unprobedToAckP50: quiet.p50, unprobedToAckP95: quiet.p95, unprobedN: quiet.n });
    // The renderer nodes' part of the same keystrokes, from their frame traces, and which stage the
    // slowest tenth of them ran long in.
    const origin = await page.evaluate(() => performance.timeOrigin);
    const ks = keystrokes(stampAll, st.keydownAt);
    const traces = traceDir ? readTraces(traceDir) : [];
    if (traceDir) Object.assign(stamp, nodeSplit(ks, traces, origin));
    const perNode = nodeStages(ks, traces, origin);
    Object.assign(stamp, tailSplit(ks.map((s, i) => keystrokeStages(s, perNode[i] ?? null))));
  }

  return {
    lat,
    keydowns: st.keydownAt.length,
    unresolved: st.keydownAt.length - st.samples.length,
    noiseFrames: st.noiseFrames,
    noiseChanged: st.noiseChanged,
    readMsPerFrame: st.frames > 0 ? round(st.readMs / st.frames, 2) : Number.NaN,
    pssMB: round(Math.max(...pss) / 1024, 1),
    pssMeanMB: round(pss.reduce((a, b) => a + b, 0) / pss.length / 1024, 1),
    cpuPercent: round(cpu, 1),
    cpuByType: byType,
    cpuByThread: threads,
    mainThread,
    ...(system === 'lockstep' ? { videoFps: round(framesDecoded / seconds, 1) } : {}),
    chromiumProcesses: pids.length,
    load1m: round((load0 + load1m()) / 2),
    keysPerSecond: round(KEYS / typingS, 1),
    ...(stamp ? { stamp } : {}),
    ...(profile ? { profile } : {}),
  };
}

export async function withBrowser<T>(fn: (page: Page) => Promise<T>): Promise<T> {
  let browser: TestBrowser | undefined;
  try {
    browser = await launchChromium();
    await browser.context.addInitScript(PIXEL_WATCH_SCRIPT);
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    return await fn(page);
  } finally {
    await browser?.close();
  }
}

export async function measurePeer(): Promise<Measured> {
  const peer = await VncPeer.create({ width: WIDTH, height: HEIGHT });
  try {
    return await withBrowser(async (page) => {
      await page.goto(peer.url);
      const canvas = page.locator('#noVNC_container canvas');
      await waitFor(
        'noVNC showing the xterm',
        async () => (await canvas.evaluate((c: HTMLCanvasElement) => c.width)) === WIDTH,
        30_000,
        100,
      );
      await sleep(1000);
      // Focuses noVNC's keyboard and puts the X pointer over the xterm (no window manager: focus follows it).
      await canvas.click({ position: { x: 200, y: 200 } });
      return measure(page, { selector: '#noVNC_container canvas', kind: 'canvas', cropBottom: 0 }, 'noVNC');
    });
  } finally {
    await peer.close();
  }
}

export async function measureLockstep(): Promise<Measured> {
  let cluster: Cluster | undefined;
  let viewer: ViewerClient | undefined;
  try {
    cluster = await startTracedCluster(HOSTS);
    viewer = await connectViewer(cluster);
    const c = cluster;
    const sessionId = await createSession(c, viewer, { width: WIDTH, height: HEIGHT, replicationFactor: REPLICAS });
    await preload(viewer, sessionId);
    return await withBrowser(async (page) => {
      await openBenchViewer(page, c, sessionId, 'warm');
      await waitForStreams(page, REPLICAS, 'warm');
      // LOCKSTEP_VIEWER_DISPLAY=tiles (scripts/lib/viewer-page.ts): the viewer's tile display; its canvas is
      // probed as noVNC's is (rAF), once it has replaced the shown video.
      if (process.env.LOCKSTEP_VIEWER_DISPLAY === 'tiles') {
        await waitFor('the tile display shown', () =>
          page.evaluate(
            () =>
              (window as unknown as { __lockstep?: { tiles?: { shown: boolean } | null } }).__lockstep?.tiles?.shown,
          ),
        );
        return measure(page, { selector: 'canvas.tiles.live', kind: 'canvas', cropBottom: 0 }, 'lockstep', c.traceDir);
      }
      return measure(page, { selector: 'video.live', kind: 'video', cropBottom: STAMP_HEIGHT }, 'lockstep', c.traceDir);
    });
  } finally {
    viewer?.close();
    await stopAll();
    if (cluster) removeDir(cluster.server.dataDir);
    if (cluster?.traceDir) removeDir(cluster.traceDir);
  }
}

/** The viewer-CPU figure's detail: by process type and thread, the page's main thread, decoded fps, load. */
export function cpuDetail(x: Measured): Record<string, number> {
  return {
    ...x.cpuByType,
    ...(x.videoFps === undefined ? {} : { videoFps: x.videoFps }),
    load1m: x.load1m,
    ...Object.fromEntries(Object.entries(x.cpuByThread).map(([k, v]) => [`thread ${k}`, v])),
    ...Object.fromEntries(
      Object.entries(x.mainThread).map(([k, v]) => [`main ${k}${k.endsWith('Duration') ? ' ms/s' : '/s'}`, v]),
    ),
  };
}

function debVersion(pkg: string): string {
  try {
    return execFileSync('dpkg-query', ['-W', '-f=${Version}', pkg], { encoding: 'utf8' }).trim();
  } catch {
    return 'unknown';
  }
}

export async function runPeer(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  execFileSync('bash', [join(ROOT, 'scripts/install-peer.sh')], { stdio: 'inherit' });
  const m = machine();
  const where = `${m.cpuModel} (${m.cores} cores), ${m.totalMemoryMB} MB`;
  const versions = `noVNC ${debVersion('novnc')}, TigerVNC ${debVersion('tigervnc-standalone-server')}, xterm ${debVersion('xterm')}, websockify ${debVersion('websockify')}, Chromium ${debVersion('chromium')}`;
  // Each run measures both systems, the order alternating so neither always gets the fresher box; each
  // figure (ratios too: per run, then the median) is the median run, quoted with every run and the spread.
  const runs: BenchResult[][] = [];
  for (let i = 0; i < REPEAT; i++) {
    const peerFirst = i % 2 === 0;
    const first = peerFirst ? await measurePeer() : await measureLockstep();
    const second = peerFirst ? await measureLockstep() : await measurePeer();
    const got: BenchResult[] = [];
    runResults(peerFirst ? first : second, peerFirst ? second : first, versions, where, (r) => got.push(r));
    runs.push(got);
  }
  for (const r of runs[0] ?? []) add(acrossRuns(r, runs));
  return results;
}

/** The figures of one run: each system's latency and viewer cost, and the ratios. */
function runResults(
  peer: Measured,
  lockstep: Measured,
  versions: string,
  where: string,
  add: (r: BenchResult) => void,
): void {
  const detailOf = (x: Measured): Record<string, number | string> => ({
    p95: x.lat.p95,
    p99: x.lat.p99,
    mean: x.lat.mean,
    max: x.lat.max,
    keystrokes: x.lat.n,
    keydowns: x.keydowns,
    unresolved: x.unresolved,
    keysPerSecond: x.keysPerSecond,
    noiseFramesChanged: `${x.noiseChanged}/${x.noiseFrames}`,
    readMsPerFrame: x.readMsPerFrame,
    load1m: x.load1m,
    ...(x.stamp ?? {}),
  });
  const method =
    "keydown → performance.now() in the callback of the first displayed frame whose pixels changed (rAF on noVNC's canvas, rVFC on Lockstep's <video>; same probe, frames read at half size)";
  add({ name: 'peer.noVNC.p50', value: peer.lat.p50, unit: 'ms', detail: { ...detailOf(peer), versions, method } });
  add({ name: 'peer.noVNC.p95', value: peer.lat.p95, unit: 'ms' });
  add({
    name: 'peer.lockstep.p50',
    value: lockstep.lat.p50,
    unit: 'ms',
    detail: {
      ...detailOf(lockstep),
      shape: `${REPLICAS} replicas, warm, ${WIDTH}x${HEIGHT} writer`,
      stamps: `stamp split: ${stampsMeaning(viewerStamps())}; the pixel figures do not depend on it`,
    },
  });
  add({ name: 'peer.lockstep.p95', value: lockstep.lat.p95, unit: 'ms' });
  add({ name: 'peer.ratio.p50', value: round(lockstep.lat.p50 / peer.lat.p50), unit: '× (Lockstep/peer)' });
  add({ name: 'peer.ratio.p95', value: round(lockstep.lat.p95 / peer.lat.p95), unit: '× (Lockstep/peer)' });
  const cost = (x: Measured) => ({ meanMB: x.pssMeanMB, processes: x.chromiumProcesses, load1m: x.load1m });
  const costNote = `all Chromium processes, ${1000 / COST_INTERVAL_MS} keys/s for ${(COST_KEYS * COST_INTERVAL_MS) / 1000} s, 1400x900 window; ${where}`;
  add({ name: 'peer.viewer-pss.noVNC', value: peer.pssMB, unit: 'MB', detail: { ...cost(peer), note: costNote } });
  add({ name: 'peer.viewer-pss.lockstep', value: lockstep.pssMB, unit: 'MB', detail: cost(lockstep) });
  add({ name: 'peer.viewer-pss.ratio', value: round(lockstep.pssMB / peer.pssMB), unit: '× (Lockstep/peer)' });
  const byType = cpuDetail;
  add({
    name: 'peer.viewer-cpu.noVNC',
    value: peer.cpuPercent,
    unit: '% of a core',
    detail: { ...byType(peer), note: costNote },
  });
  add({
    name: 'peer.viewer-cpu.lockstep',
    value: lockstep.cpuPercent,
    unit: '% of a core',
    detail: { ...byType(lockstep), stamps: stampsMeaning(viewerStamps()) },
  });
  add({
    name: 'peer.viewer-cpu.ratio',
    value: round(lockstep.cpuPercent / peer.cpuPercent),
    unit: '× (Lockstep/peer)',
  });
}

if (isMain(import.meta.url)) {
  await runPeer((r) => console.log(formatResult(r), r.detail ? JSON.stringify(r.detail) : ''));
}
