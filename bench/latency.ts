// Input-to-photon latency in headless Chromium, measured inside the page: from
// the keydown (the viewer's input capture sends the input in the same task and
// stamps it with performance.now()) to the requestVideoFrameCallback of the
// first presented frame whose stamp is ≥ that input's seq
// (window.__lockstep.latencySamples). 640x480, 1280x720 and 1920x1080, hot
// and warm standbys; each run is one session of 3 replicas on 3 renderer
// processes. Each run also reports its fps ceiling (frames delivered while keys
// come faster than frames) and its switches per 1,000 keys (no fault: 0).
// The same runs report the viewer tab's memory with 3 streams (tab-memory).
// Each sample is split with the frame's requestVideoFrameCallback metadata:
// input → ack, → the frame's last packet in the browser (sequencer fan-out,
// render, encode, SFU), → handed to the compositor (jitter buffer, decode),
// → the callback; and when Chromium expects it on the display. The renderer
// nodes trace each frame (LOCKSTEP_TRACE_DIR), which splits the node part
// further (bench/lib/node-split.ts): viewer → node, apply, wait to render,
// render + read-back + I420, hand-off, → packets in (encode, pacer, SFU), and
// the shown encoder's own counters (encode ms per frame, pacer delay).
// Its viewers read stamps with frame callbacks (`?stamps=frame`), not the product's default track processor
// (which sees a frame when decoded and has no presentation times): these figures and the split keep their
// display-time meaning (each figure's detail says `stamps`). LOCKSTEP_VIEWER_STAMPS=processor measures to decode.
// Usage: tsx bench/latency.ts [--only-memory]
// LOCKSTEP_BENCH_LATENCY_RUNS=1280x720.warm,... limits the runs (default all; bench/lib/latency-runs.ts):
// bench/run.ts then keeps the other variants' figures of the last report.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../scripts/lib/chromium.js';
import { removeDir, stopAll } from '../scripts/lib/launcher.js';
import type { ViewerClient } from '../scripts/lib/viewer-client.js';
import { waitFor } from '../scripts/lib/wait-for.js';
import { viewerPageState, viewerStamps } from '../scripts/lib/viewer-page.js';
import type { LatencySample } from '../viewer/lockstep-hook.js';
import {
  cmdlineOf,
  commOf,
  connectViewer,
  createSession,
  descendantPids,
  openBenchViewer,
  rssKiB,
  rssParts,
  sleep,
  startTracedCluster,
  stampsMeaning,
  waitForStreams,
  type Cluster,
} from './lib/cluster.js';
import { collector, formatResult, isMain, load1m, round, summarize, type BenchResult } from './lib/report.js';
import { proseText } from './lib/writer-inputs.js';
import { nodeSplit, nodeStages, readTraces } from './lib/node-split.js';
import { keystrokeStages, tailSplit } from './lib/tail-split.js';
import { latencyRunSelected } from './lib/latency-runs.js';
import { acrossRuns } from './lib/across-runs.js';

const SIZES = [
  { label: '640x480', width: 640, height: 480 },
  { label: '1280x720', width: 1280, height: 720 },
  { label: '1920x1080', width: 1920, height: 1080 },
] as const;
const MODES = ['hot', 'warm'] as const;
type Mode = (typeof MODES)[number];
const HOSTS = ['lat-host-1', 'lat-host-2', 'lat-host-3'];
const REPLICAS = 3;
/** Keystrokes measured per run, after a short warm-up. */
const KEYS = Number(process.env.LOCKSTEP_BENCH_KEYS ?? 200);
const WARMUP_KEYS = 10;
/** LOCKSTEP_BENCH_LATENCY_DUMP=dir: each run's keystrokes, stage by stage, written there as JSON (for a look at the tail). */
const DUMP_DIR = process.env.LOCKSTEP_BENCH_LATENCY_DUMP;
/** ~9 keys/s: each input is on screen before the next one (no queueing). */
const KEY_INTERVAL_MS = 110;
/** Text already in the document (a realistic page to re-render). */
export const PRELOAD_CHARS = 1500;
/** The viewer sends a key's input in the keydown's task; its keyup follows at least a CDP round trip later. */
const SAME_TASK_MS = 50;
const TYPED = 'the quick brown fox jumps over the lazy dog ';
/** The fps ceiling: keys faster than any frame rate (well under the 400 inputs/s bound), for this long. */
const BURST_MS = 3000;
const BURST_KEY_INTERVAL_MS = 15;
/** Frame callbacks: an input's sample ends when its frame is presented (see the header). */
const STAMPS = viewerStamps('frame');

/** The page-clock times of a latency sample. */
type SampleTime = Exclude<keyof LatencySample, 'seq' | 'replicaId'>;

/** p50/p95 of `to − from` over the samples that have both (rVFC metadata can be missing). */
export function stage(samples: LatencySample[], from: SampleTime, to: SampleTime) {
  const d: number[] = [];
  for (const s of samples) {
    const a = s[from];
    const b = s[to];
    if (a !== undefined && b !== undefined) d.push(b - a);
  }
  return d.length > 0 ? summarize(d) : null;
}

/** Cumulative receive-side stats of the live stream's inbound-rtp (Chrome getStats). */
interface RxStats {
  framesDecoded: number;
  totalDecodeTime: number;
  jitterBufferDelay: number;
  jitterBufferEmittedCount: number;
  totalProcessingDelay: number;
  framesReceived: number;
  framesDropped: number;
}

interface TabMemory {
  jsHeapUsedMB: number;
  jsHeapTotalMB: number;
  rendererRssMB: number;
  rendererAnonMB: number;
  rendererShmemMB: number;
  gpuRssMB: number;
  chromiumTotalRssMB: number;
  renderers: number;
}

/** Tab memory measured during latency runs, reused by runTabMemory in the same process. */
const measuredTabMemory = new Map<string, TabMemory>();

// Runs in the page before the viewer: keeps the RTCPeerConnections so the
// benchmark can read the receive-side stats (mediasoup-client owns them), and
// notes the time of every keydown before the viewer's own listener sees it.
const INIT_SCRIPT = `(() => {
  const Orig = window.RTCPeerConnection;
  if (!Orig || window.__benchPcs) return;
  const pcs = [];
  window.__benchPcs = pcs;
  class Captured extends Orig {
    constructor(...args) { super(...args); pcs.push(this); }
  }
  window.RTCPeerConnection = Captured;
  const keydowns = [];
  window.__benchKeydowns = keydowns;
  window.addEventListener('keydown', () => keydowns.push(performance.now()), { capture: true });
})();`;

async function rxStats(page: Page): Promise<RxStats | null> {
  return page.evaluate(async () => {
    const w = window as unknown as { __benchPcs?: RTCPeerConnection[] };
    // The live stream's element carries its consumer track's id (a canvas has no srcObject).
    const trackId = document.querySelector<HTMLElement>('.stream.live')?.dataset.trackId;
    if (!trackId) return null;
    // No named helpers in here: tsx would wrap them in a __name() the page lacks.
    let found: Record<string, unknown> | undefined;
    for (const pc of w.__benchPcs ?? []) {
      if (pc.connectionState === 'closed') continue;
      (await pc.getStats()).forEach((s: Record<string, unknown>) => {
        if (s.type === 'inbound-rtp' && s.kind === 'video' && s.trackIdentifier === trackId) found = s;
      });
      if (found) break;
    }
    if (!found) return null;
    const out: Record<string, number> = {};
    for (const k of [
      'framesDecoded',
      'totalDecodeTime',
      'jitterBufferDelay',
      'jitterBufferEmittedCount',
      'totalProcessingDelay',
      'framesReceived',
      'framesDropped',
    ])
      out[k] = typeof found[k] === 'number' ? found[k] : 0;
    return out as unknown as RxStats;
  });
}

async function latencySamples(page: Page): Promise<{ samples: LatencySample[]; keydowns: number[] }> {
  return page.evaluate(() => {
    const w = window as unknown as { __lockstep?: { latencySamples?: LatencySample[] }; __benchKeydowns?: number[] };
    return {
      samples: (w.__lockstep?.latencySamples ?? []).map((s) => ({ ...s })),
      keydowns: [...(w.__benchKeydowns ?? [])],
    };
  });
}

/** Types `n` keys at a steady KEY_INTERVAL_MS cadence. */
async function typeSteadily(page: Page, n: number, offset: number): Promise<void> {
  const t0 = performance.now();
  for (let i = 0; i < n; i++) {
    const wait = t0 + i * KEY_INTERVAL_MS - performance.now();
    if (wait > 0) await sleep(wait);
    await page.keyboard.press(TYPED[(offset + i) % TYPED.length] ?? 'x');
  }
}

/** Everything typed is acknowledged and on screen, and the viewer has matched it to a frame. */
export async function settled(page: Page): Promise<void> {
  await waitFor(
    'typed input on screen',
    async () => {
      const st = await viewerPageState(page);
      return st && st.pendingInputs === 0 && st.displayedSeq >= st.ackedSeq;
    },
    20_000,
    50,
  );
  await sleep(600); // the viewer matches acks to frames every 250 ms
}

/** One sample per keystroke: the input the viewer sent in the same task as a keydown (not its keyup). */
export function keystrokes(samples: LatencySample[], keydowns: number[]): LatencySample[] {
  const out: LatencySample[] = [];
  for (const k of keydowns) {
    let s: LatencySample | undefined;
    for (const x of samples) if (x.sentAt >= k && (s === undefined || x.sentAt < s.sentAt)) s = x;
    if (s && s.sentAt - k < SAME_TASK_MS) out.push(s);
  }
  return out;
}

async function tabMemory(page: Page): Promise<TabMemory> {
  const cdp = await page.context().newCDPSession(page);
  try {
    await cdp.send('HeapProfiler.collectGarbage');
    await cdp.send('Performance.enable');
    const { metrics } = await cdp.send('Performance.getMetrics');
    const metric = (name: string) => metrics.find((m) => m.name === name)?.value ?? Number.NaN;
    // Chromium's processes are descendants of this one (playwright launched it).
    const chromium = descendantPids(process.pid).filter((p) => /chrom/i.test(commOf(p)));
    const renderers = chromium.filter((p) => {
      const c = cmdlineOf(p);
      return c.includes('--type=renderer') && !c.includes('--extension-process');
    });
    const gpu = chromium.filter((p) => cmdlineOf(p).includes('--type=gpu-process'));
    const mb = (kib: number) => round(kib / 1024, 1);
    // The tab's renderer is the biggest (it decodes the video); others are spares.
    let tab: number | undefined;
    for (const p of renderers) if (tab === undefined || rssKiB(p) > rssKiB(tab)) tab = p;
    const parts = tab === undefined ? undefined : rssParts(tab);
    return {
      jsHeapUsedMB: round(metric('JSHeapUsedSize') / 2 ** 20, 1),
      jsHeapTotalMB: round(metric('JSHeapTotalSize') / 2 ** 20, 1),
      rendererRssMB: mb(tab === undefined ? Number.NaN : rssKiB(tab)),
      rendererAnonMB: mb(parts?.anonKiB ?? Number.NaN),
      rendererShmemMB: mb(parts?.shmemKiB ?? Number.NaN),
      gpuRssMB: mb(
        gpu
          .map(rssKiB)
          .filter(Number.isFinite)
          .reduce((a, b) => a + b, 0),
      ),
      chromiumTotalRssMB: mb(
        chromium
          .map(rssKiB)
          .filter(Number.isFinite)
          .reduce((a, b) => a + b, 0),
      ),
      renderers: renderers.length,
    };
  } finally {
    await cdp.detach().catch(() => undefined);
  }
}

/** Frames per second the live stream delivers while keys arrive faster than frames can (the fps ceiling). */
async function burstFps(page: Page, offset: number): Promise<number | null> {
  const rx0 = await rxStats(page);
  const t0 = performance.now();
  let i = 0;
  while (performance.now() - t0 < BURST_MS) {
    await page.keyboard.press(TYPED[(offset + i++) % TYPED.length] ?? 'x');
    await sleep(BURST_KEY_INTERVAL_MS);
  }
  const rx1 = await rxStats(page);
  const seconds = (performance.now() - t0) / 1000;
  await settled(page);
  // A switch during the burst changes the live track: no figure then.
  const frames = rx0 && rx1 ? rx1.framesDecoded - rx0.framesDecoded : -1;
  return frames >= 0 ? round(frames / seconds, 1) : null;
}

export async function preload(viewer: ViewerClient, sessionId: string): Promise<void> {
  await viewer.request({ type: 'session.join', sessionId, clientId: 'bench-preload' });
  await viewer.request({
    type: 'input',
    sessionId,
    clientSeq: 0,
    event: { type: 'paste', text: `${proseText(PRELOAD_CHARS)}\n\n` },
  });
  await viewer.request({ type: 'session.leave', sessionId });
}

async function oneRun(
  c: Cluster,
  viewer: ViewerClient,
  size: (typeof SIZES)[number],
  mode: Mode,
  add: (r: BenchResult) => void,
  keys: number,
): Promise<void> {
  const sessionId = await createSession(c, viewer, {
    width: size.width,
    height: size.height,
    replicationFactor: REPLICAS,
  });
  let browser: TestBrowser | undefined;
  try {
    await preload(viewer, sessionId);
    browser = await launchChromium();
    await browser.context.addInitScript(INIT_SCRIPT);
    const page = browser.context.pages()[0] ?? (await browser.context.newPage());
    await openBenchViewer(page, c, sessionId, mode, STAMPS);
    await waitForStreams(page, REPLICAS, mode);
    await typeSteadily(page, WARMUP_KEYS, 0);
    await settled(page);
    const before = await viewerPageState(page);
    const seqBefore = before?.ackedSeq ?? 0;
    const switchesBefore = before?.switches ?? 0;
    const rx0 = await rxStats(page);
    const keydownsBefore = (await latencySamples(page)).keydowns.length;
    const load0 = load1m();
    const t0 = performance.now();
    await typeSteadily(page, keys, WARMUP_KEYS);
    const typingS = (performance.now() - t0) / 1000;
    await settled(page);
    const rx1 = await rxStats(page);
    const after = await viewerPageState(page);
    const got = await latencySamples(page);
    const samples = keystrokes(
      got.samples.filter((s) => s.seq > seqBefore),
      got.keydowns.slice(keydownsBefore),
    );
    const name = `latency.${size.label}.${mode}`;
    const lat = summarize(samples.map((s) => s.shownAt - s.sentAt));
    const toAck = summarize(samples.map((s) => s.ackedAt - s.sentAt));
    const ackToShown = summarize(samples.map((s) => s.shownAt - s.ackedAt));
    const detail: Record<string, number | string> = {
      p95: lat.p95,
      p99: lat.p99,
      mean: lat.mean,
      max: lat.max,
      keystrokes: lat.n,
      stamps: stampsMeaning(STAMPS),
      keysTyped: keys,
      keysPerSecond: round(keys / typingS, 1),
      inputToAckP50: toAck.p50,
      inputToAckP95: toAck.p95,
      ackToShownP50: ackToShown.p50,
      ackToShownP95: ackToShown.p95,
    };
    const stages = {
      sentToPacketsIn: stage(samples, 'sentAt', 'receivedAt'),
      packetsInToCompositor: stage(samples, 'receivedAt', 'presentedAt'),
      compositorToCallback: stage(samples, 'presentedAt', 'shownAt'),
      compositorToFrame: stage(samples, 'presentedAt', 'frameAt'),
      frameToCallback: stage(samples, 'frameAt', 'shownAt'),
      sentToExpectedDisplay: stage(samples, 'sentAt', 'expectedDisplayAt'),
    };
    for (const [k, v] of Object.entries(stages)) {
      if (!v) continue;
      detail[`${k}P50`] = v.p50;
      detail[`${k}P95`] = v.p95;
    }
    // The renderer nodes' part, from their frame traces (same machine, same clock).
    const origin = await page.evaluate(() => performance.timeOrigin);
    const traces = c.traceDir ? readTraces(c.traceDir) : [];
    if (c.traceDir) Object.assign(detail, nodeSplit(samples, traces, origin));
    // Which stage the slowest tenth of keystrokes ran long in.
    const perNode = nodeStages(samples, traces, origin);
    const split = samples.map((s, i) => keystrokeStages(s, perNode[i] ?? null));
    Object.assign(detail, tailSplit(split));
    if (DUMP_DIR) {
      mkdirSync(DUMP_DIR, { recursive: true });
      const file = join(DUMP_DIR, `${name}.${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
      writeFileSync(file, `${JSON.stringify({ load1m: load1m(), keystrokes: split }, null, 1)}\n`);
    }
    const switches = (after?.switches ?? 0) - switchesBefore;
    Object.assign(detail, {
      switches,
      // No fault in this run: any switch is a false one (stale rule, scores).
      switchesPer1000Keys: round((1000 * switches) / Math.max(1, keys), 2),
      load1m: round((load0 + load1m()) / 2),
    });
    if (rx0 && rx1) {
      const frames = rx1.framesDecoded - rx0.framesDecoded;
      const emitted = rx1.jitterBufferEmittedCount - rx0.jitterBufferEmittedCount;
      if (frames > 0) {
        detail.rxFrames = frames;
        detail.rxDecodeMsPerFrame = round(((rx1.totalDecodeTime - rx0.totalDecodeTime) * 1000) / frames, 2);
        // Chrome: from the frame's first packet received to its decode end.
        detail.rxPacketToDecodedMsPerFrame = round(
          ((rx1.totalProcessingDelay - rx0.totalProcessingDelay) * 1000) / frames,
          2,
        );
        detail.rxFramesDropped = rx1.framesDropped - rx0.framesDropped;
      }
      if (emitted > 0)
        detail.rxJitterBufferMsPerFrame = round(((rx1.jitterBufferDelay - rx0.jitterBufferDelay) * 1000) / emitted, 2);
    }
    const burst = await burstFps(page, keys + WARMUP_KEYS);
    if (burst !== null) detail.fpsCeiling = burst;
    add({ name: `${name}.p50`, value: lat.p50, unit: 'ms', detail });
    add({ name: `${name}.p95`, value: lat.p95, unit: 'ms' });
    add({ name: `${name}.p99`, value: lat.p99, unit: 'ms' });
    measuredTabMemory.set(`${mode}.${size.label}`, await tabMemory(page));
  } finally {
    await browser?.close();
    await viewer.request({ type: 'sessions.close', sessionId }).catch(() => undefined);
  }
}

export async function withCluster(fn: (c: Cluster, viewer: ViewerClient) => Promise<void>): Promise<void> {
  let cluster: Cluster | undefined;
  let viewer: ViewerClient | undefined;
  try {
    cluster = await startTracedCluster(HOSTS);
    viewer = await connectViewer(cluster);
    await fn(cluster, viewer);
  } finally {
    viewer?.close();
    await stopAll();
    if (cluster) removeDir(cluster.server.dataDir);
    if (cluster?.traceDir) removeDir(cluster.traceDir);
  }
}

export async function runLatency(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  await withCluster(async (c, viewer) => {
    for (const size of SIZES) {
      for (const mode of MODES) {
        if (!latencyRunSelected(`${size.label}.${mode}`)) continue;
        // Each configuration runs REPEAT times; each figure is the median run, quoted with every run's value.
        const runs: BenchResult[][] = [];
        for (let i = 0; i < REPEAT; i++) {
          const got: BenchResult[] = [];
          await oneRun(c, viewer, size, mode, (r) => got.push(r), KEYS);
          runs.push(got);
        }
        for (const r of runs[0] ?? []) add(acrossRuns(r, runs));
      }
    }
  });
  return results;
}

/** Runs of each latency configuration (their spread is part of the figure). */
const REPEAT = Number(process.env.LOCKSTEP_BENCH_LATENCY_REPEAT ?? 3);

function memoryResults(add: (r: BenchResult) => void, source: string): void {
  for (const size of SIZES) {
    for (const mode of MODES) {
      const m = measuredTabMemory.get(`${mode}.${size.label}`);
      if (!m) continue;
      const name = `tab-memory.${size.label}.${mode}`;
      add({
        name: `${name}.js-heap`,
        value: m.jsHeapUsedMB,
        unit: 'MB',
        detail: { jsHeapTotalMB: m.jsHeapTotalMB, streams: REPLICAS, note: `used JS heap after a GC; ${source}` },
      });
      add({
        name: `${name}.renderer-rss`,
        value: m.rendererRssMB,
        unit: 'MB',
        detail: {
          anonMB: m.rendererAnonMB,
          shmemMB: m.rendererShmemMB,
          gpuProcessRssMB: m.gpuRssMB,
          chromiumTotalRssMB: m.chromiumTotalRssMB,
          rendererProcesses: m.renderers,
          note: 'VmRSS of the tab renderer process (decodes the video)',
        },
      });
    }
  }
}

/**
 * The viewer tab's memory with 3 streams, hot vs warm. Reuses what the latency
 * runs measured in this process; otherwise runs shorter sessions of its own.
 */
export async function runTabMemory(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  if (measuredTabMemory.size > 0) {
    memoryResults(add, `end of the latency run (${KEYS} keys typed)`);
    return results;
  }
  const keys = 60;
  await withCluster(async (c, viewer) => {
    for (const size of SIZES) {
      for (const mode of MODES) {
        if (!latencyRunSelected(`${size.label}.${mode}`)) continue;
        // Latency figures of these short runs are not reported: only the memory.
        await oneRun(c, viewer, size, mode, () => {}, keys);
      }
    }
  });
  memoryResults(add, `after ${keys} keys typed`);
  return results;
}

if (isMain(import.meta.url)) {
  const print = (r: BenchResult) => console.log(formatResult(r), r.detail ? JSON.stringify(r.detail) : '');
  if (process.argv.includes('--only-memory')) await runTabMemory(print);
  else {
    await runLatency(print);
    await runTabMemory(print);
  }
}
