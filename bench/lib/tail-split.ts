// Which stage makes the tail: over the slowest tenth of keystrokes (by their
// keydown → shown total), how far each stage ran over its own median. The
// stages of one keystroke add up to its total, so the excesses of the slow
// keystrokes' stages add up to roughly how far those keystrokes ran over the
// median one: the biggest excess is the stage whose variance makes p95.
import type { LatencySample } from '../../viewer/lockstep-hook.js';
import type { NodeStages } from './node-split.js';
import { round } from './report.js';

/** One keystroke: its total and the stages it splits into (ms); a stage may be missing. */
export interface KeystrokeStages {
  total: number;
  stages: Readonly<Record<string, number | undefined>>;
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor((s.length - 1) / 2)] ?? Number.NaN;
}

/**
 * `tail.excess.total`: the slowest `share` of keystrokes' mean total minus the median total;
 * `tail.excess.<stage>`: those keystrokes' mean of (stage − the stage's median over all keystrokes).
 * Empty with fewer than 10 keystrokes.
 */
export function tailSplit(rows: readonly KeystrokeStages[], share = 0.1): Record<string, number> {
  const out: Record<string, number> = {};
  if (rows.length < 10) return out;
  const sorted = [...rows].sort((a, b) => a.total - b.total);
  const slow = sorted.slice(Math.floor(sorted.length * (1 - share)));
  out['tail.excess.total'] = round(
    slow.reduce((n, r) => n + r.total, 0) / slow.length - median(rows.map((r) => r.total)),
    1,
  );
  const names = [...new Set(rows.flatMap((r) => Object.keys(r.stages)))];
  for (const name of names) {
    const all = rows.flatMap((r) => (r.stages[name] === undefined ? [] : [r.stages[name]]));
    const mine = slow.flatMap((r) => (r.stages[name] === undefined ? [] : [r.stages[name]]));
    if (mine.length === 0) continue;
    const m = median(all);
    out[`tail.excess.${name}`] = round(mine.reduce((n, v) => n + v - m, 0) / mine.length, 1);
  }
  return out;
}

/**
 * A keystroke's path split into stages that add up to keydown-sent → shown: the node's stages where its
 * trace has them (viewer → node … → packets in), else sent → packets in; then packets in → compositor,
 * compositor → the rendering step's frame time (the rVFC `now`: a vsync; negative when the frame was
 * presented while a late rendering step was already due), → the callback (how late the main thread reached
 * the callback after that frame time: busy, or not scheduled).
 */
export function keystrokeStages(s: LatencySample, node: NodeStages | null): KeystrokeStages {
  const stages: Record<string, number | undefined> = {};
  const d = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? undefined : b - a);
  if (node && node.encodeToPacketsIn !== undefined) Object.assign(stages, node);
  else stages.sentToPacketsIn = d(s.sentAt, s.receivedAt);
  stages.packetsInToCompositor = d(s.receivedAt, s.presentedAt);
  if (s.frameAt !== undefined) {
    stages.compositorToFrame = d(s.presentedAt, s.frameAt);
    stages.frameToCallback = d(s.frameAt, s.shownAt);
  } else stages.compositorToCallback = d(s.presentedAt, s.shownAt);
  for (const k of Object.keys(stages)) if (stages[k] === undefined) delete stages[k];
  return { total: s.shownAt - s.sentAt, stages };
}
