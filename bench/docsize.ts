// The writer's per-keystroke cost against the document's size: a document of
// 1k, 10k, 50k and 200k characters (pasted prose), then key presses typed at
// its end; for each key the apply, the app's render and the status hash a
// status report needs (render/app-hash.ts: the app's state digest when it has
// one), each timed on its own (median of 60 keys after 10 warm-up keys); also
// the full snapshot + its hash, which a replica makes only when the server asks
// for a checkpoint (every 1000 inputs). A long report should type like a short note.
// Usage: tsx bench/docsize.ts
import { performance } from 'node:perf_hooks';
import type { App } from '../render/app-types.js';
import { stateHashOf, statusHashOf } from '../render/app-hash.js';
import { getApp } from '../render/apps/index.js';
import { FrameRenderer } from '../render/frame-renderer.js';
import { toReplicaApp } from '../render/replica-app.js';
import { replicaFrame } from './lib/replica-frame.js';
import { MAX_PASTE_CHARS } from '../render/sdk/index.js';
import { collector, formatResult, isMain, load1m, round, summarize, type BenchResult } from './lib/report.js';
import { keyEvent, proseText, sequenced } from './lib/writer-inputs.js';

const SIZES = [1_000, 10_000, 50_000, 200_000] as const;
/** Per-key figures at each size, each with its 200k : 1k ratio. */
const PER_KEY = ['apply', 'render', 'status-hash'] as const;
const WIDTH = 1280;
const HEIGHT = 720;
const KEYS = 60;
const WARMUP_KEYS = 10;

/** A writer of `chars` characters, caret at the end, as pastes within the paste limit would make it. */
function documentOf(app: App<unknown>, chars: number): { state: unknown; seq: number } {
  let state = app.init({ width: WIDTH, height: HEIGHT });
  const text = proseText(chars);
  let seq = 0;
  for (let i = 0; i < text.length; i += MAX_PASTE_CHARS) {
    state = app.apply(state, sequenced(++seq, { type: 'paste', text: text.slice(i, i + MAX_PASTE_CHARS) }));
  }
  return { state, seq };
}

const sizeLabel = (chars: number): string => `docsize.${chars / 1000}k`;
const ratioName = (what: string): string => `docsize.${what}-ratio-200k-to-1k`;

/**
 * Every figure a docsize run reports, in order: a run replaces all of them (bench/run.ts drops every `docsize.`
 * figure of the last report first), so a name not here in bench/results/latest.json is a stale leftover.
 */
export const DOCSIZE_FIGURES: readonly string[] = [
  ...SIZES.flatMap((chars) => [...PER_KEY, 'snapshot-at-checkpoint'].map((what) => `${sizeLabel(chars)}.${what}`)),
  ...PER_KEY.map(ratioName),
];

function median(name: string, samples: number[], chars: number, unit = 'ms/key (p50)'): BenchResult {
  const s = summarize(samples);
  return {
    name,
    value: round(s.p50, 3),
    unit,
    detail: { p95: round(s.p95, 3), mean: round(s.mean, 3), keys: samples.length, chars, load1m: load1m() },
  };
}

export async function runDocSize(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  const app = getApp('writer');
  const replicaApp = toReplicaApp(app);
  /** p50 per size, for the 200k : 1k ratios. */
  const p50s = new Map<string, number>();
  for (const chars of SIZES) {
    let { state, seq } = documentOf(app, chars);
    const renderer = new FrameRenderer();
    const frame = () => replicaFrame(renderer, app, state, seq);
    frame();
    const apply: number[] = [];
    const render: number[] = [];
    const hash: number[] = [];
    const snapshot: number[] = [];
    for (let i = 0; i < WARMUP_KEYS + KEYS; i++) {
      seq++;
      const t0 = performance.now();
      state = app.apply(state, sequenced(seq, keyEvent(i)));
      const t1 = performance.now();
      frame();
      const t2 = performance.now();
      await statusHashOf(replicaApp, state);
      const t3 = performance.now();
      stateHashOf(app.snapshot(state));
      const t4 = performance.now();
      if (i < WARMUP_KEYS) continue;
      apply.push(t1 - t0);
      render.push(renderer.lastTimings.renderMs);
      hash.push(t3 - t2);
      snapshot.push(t4 - t3);
    }
    const label = sizeLabel(chars);
    const samplesOf = { apply, render, 'status-hash': hash };
    for (const what of PER_KEY) {
      const r = median(`${label}.${what}`, samplesOf[what], chars);
      p50s.set(`${what}@${chars}`, r.value);
      add(r);
    }
    add(median(`${label}.snapshot-at-checkpoint`, snapshot, chars, 'ms (p50)'));
    await new Promise((resolve) => setImmediate(resolve));
  }
  for (const what of PER_KEY) {
    const small = p50s.get(`${what}@${SIZES[0]}`) ?? 0;
    const large = p50s.get(`${what}@${SIZES[3]}`) ?? 0;
    add({
      name: ratioName(what),
      value: small > 0 ? round(large / small, 2) : 0,
      unit: '×',
      detail: { target: '≤ 1.2', load1m: load1m() },
    });
  }
  return results;
}

if (isMain(import.meta.url)) {
  await runDocSize((r) => console.log(formatResult(r)));
}
