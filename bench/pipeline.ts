// The frame pipeline of one replica, without the network: per-frame cost of
// the writer's render, the pixel read-back (getImageData) and RGBA→I420, at
// 640x480, 1280x720 and 1920x1080 with a full page of text; the frame-rate ceiling of one
// replica; and the CPU a Replica (withoutVideo) uses idle and while typing.
// Frames are rendered as a replica renders them (the app's damage report read:
// only the changed rows are read back and converted, bench/lib/replica-frame.ts).
// None of it includes the VP8 encode, which runs inside wrtc on the video path.
// Usage: tsx bench/pipeline.ts
import { performance } from 'node:perf_hooks';
import type { SequencedInput } from '../protocol/input.js';
import type { App } from '../render/app-types.js';
import { getApp } from '../render/apps/index.js';
import { FrameRenderer } from '../render/frame-renderer.js';
import { createBenchReplica } from './lib/bench-replica.js';
import { replicaFrame } from './lib/replica-frame.js';
import { collector, formatResult, isMain, load1m, round, summarize, type BenchResult } from './lib/report.js';
import { fullPageInputs, keyEvent, sequenced } from './lib/writer-inputs.js';

const SIZES = [
  { label: '640x480', width: 640, height: 480 },
  { label: '1280x720', width: 1280, height: 720 },
  { label: '1920x1080', width: 1920, height: 1080 },
] as const;

const FRAMES = 150;
const WARMUP_FRAMES = 10;
const CEILING_MS = 3000;
const CPU_WINDOW_MS = 5000;
const KEYS_PER_SECOND = 10;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** A writer state holding more than a page of text, caret at the end. */
function fullPage(app: App<unknown>, width: number, height: number): { state: unknown; seq: number } {
  let state = app.init({ width, height });
  const inputs = fullPageInputs();
  for (const input of inputs) state = app.apply(state, input);
  return { state, seq: inputs.length };
}

function stageResult(name: string, samples: number[], frames: number): BenchResult {
  const s = summarize(samples);
  return {
    name,
    value: s.p50,
    unit: 'ms/frame (p50)',
    detail: { p95: s.p95, p99: s.p99, mean: s.mean, frames, load1m: load1m() },
  };
}

/** Per-stage frame cost: one key press applied between frames, as when typing. */
function frameCost(add: (r: BenchResult) => void): void {
  const app = getApp('writer');
  for (const size of SIZES) {
    let { state, seq } = fullPage(app, size.width, size.height);
    const renderer = new FrameRenderer();
    const apply: number[] = [];
    const render: number[] = [];
    const readback: number[] = [];
    const convert: number[] = [];
    const total: number[] = [];
    const rows: number[] = [];
    let frameRows = 0;
    for (let i = 0; i < WARMUP_FRAMES + FRAMES; i++) {
      const t0 = performance.now();
      seq++;
      state = app.apply(state, sequenced(seq, keyEvent(i)));
      const t1 = performance.now();
      frameRows = replicaFrame(renderer, app, state, seq).height;
      const t = renderer.lastTimings;
      if (i < WARMUP_FRAMES) continue;
      rows.push(t.rows);
      apply.push(t1 - t0);
      render.push(t.renderMs);
      readback.push(t.readbackMs);
      convert.push(t.convertMs);
      total.push(t.renderMs + t.readbackMs + t.convertMs);
    }
    // The same frame again with no change: drawing alone, layout and counts cached.
    const unchanged: number[] = [];
    for (let i = 0; i < FRAMES; i++) {
      replicaFrame(renderer, app, state, seq);
      unchanged.push(renderer.lastTimings.renderMs);
    }
    const prefix = `pipeline.${size.label}`;
    add(stageResult(`${prefix}.apply-key`, apply, FRAMES));
    add(stageResult(`${prefix}.app-render`, render, FRAMES));
    add(stageResult(`${prefix}.app-render-unchanged-state`, unchanged, FRAMES));
    add(stageResult(`${prefix}.readback`, readback, FRAMES));
    add(stageResult(`${prefix}.rgba-to-i420`, convert, FRAMES));
    add(stageResult(`${prefix}.frame-total`, total, FRAMES));
    const r = summarize(rows);
    add({
      name: `${prefix}.rows-read`,
      value: r.p50,
      unit: 'rows/frame (p50)',
      detail: { p95: r.p95, frameRows, frames: FRAMES, load1m: load1m() },
    });
  }
}

/** Frames per second of render + read-back + convert back to back (a key press applied before each). */
function fpsCeiling(add: (r: BenchResult) => void): void {
  const app = getApp('writer');
  for (const size of SIZES) {
    let { state, seq } = fullPage(app, size.width, size.height);
    const renderer = new FrameRenderer();
    for (let i = 0; i < WARMUP_FRAMES; i++) replicaFrame(renderer, app, state, seq);
    let frames = 0;
    const started = performance.now();
    let now = started;
    while (now - started < CEILING_MS) {
      seq++;
      state = app.apply(state, sequenced(seq, keyEvent(frames)));
      replicaFrame(renderer, app, state, seq);
      frames++;
      now = performance.now();
    }
    const seconds = (now - started) / 1000;
    add({
      name: `pipeline.${size.label}.fps-ceiling`,
      value: round(frames / seconds, 1),
      unit: 'frames/s',
      detail: {
        frames,
        seconds: round(seconds, 2),
        load1m: load1m(),
        note: 'one core; apply+render+readback+I420, no VP8 encode',
      },
    });
  }
}

function cpuPercent(from: NodeJS.CpuUsage, wallMs: number): number {
  const used = process.cpuUsage(from);
  return ((used.user + used.system) / 1000 / wallMs) * 100;
}

/** CPU of one Replica (withoutVideo) at 720p: idle, then with KEYS_PER_SECOND key presses. */
async function replicaCpu(add: (r: BenchResult) => void): Promise<void> {
  const app = getApp('writer');
  const log: SequencedInput[] = fullPageInputs();
  const replica = await createBenchReplica({
    id: 'bench-cpu',
    app,
    width: 1280,
    height: 720,
    headSeq: log.length,
    read: (from, to) => log.filter((i) => i.seq >= from && i.seq <= to),
  });
  try {
    await new Promise<void>((resolve) => {
      if (replica.appliedSeq >= log.length) resolve();
      else replica.once('caughtup', () => resolve());
    });
    await sleep(200); // let the catch-up frame go out
    let frames = 0;
    replica.on('frame', () => frames++);
    const note = 'whole process; excludes the VP8 encode (withoutVideo)';

    const idleFrom = process.cpuUsage();
    const idleStart = performance.now();
    await sleep(CPU_WINDOW_MS);
    const idleWall = performance.now() - idleStart;
    add({
      name: 'pipeline.replica.1280x720.cpu-idle',
      value: round(cpuPercent(idleFrom, idleWall), 2),
      unit: '% of one core',
      detail: { seconds: round(idleWall / 1000, 2), frames, note },
    });

    frames = 0;
    let seq = replica.appliedSeq;
    const typingFrom = process.cpuUsage();
    const typingStart = performance.now();
    let keys = 0;
    const timer = setInterval(() => {
      seq++;
      keys++;
      replica.receive([sequenced(seq, keyEvent(keys))]);
    }, 1000 / KEYS_PER_SECOND);
    await sleep(CPU_WINDOW_MS);
    clearInterval(timer);
    const typingWall = performance.now() - typingStart;
    const pct = cpuPercent(typingFrom, typingWall);
    add({
      name: `pipeline.replica.1280x720.cpu-typing-${KEYS_PER_SECOND}-keys-per-s`,
      value: round(pct, 2),
      unit: '% of one core',
      detail: {
        seconds: round(typingWall / 1000, 2),
        keys,
        frames,
        replicasPerCore: pct > 0 ? round(100 / pct, 1) : 'n/a',
        note,
      },
    });
  } finally {
    replica.close();
  }
}

export async function runPipeline(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  frameCost(add);
  fpsCeiling(add);
  await replicaCpu(add);
  return results;
}

if (isMain(import.meta.url)) {
  await runPipeline((r) => console.log(formatResult(r)));
}
