// Two bench/results/latest.json result lists made one (a merge of two branches
// that both ran benchmarks, or a partial bench run over the last report): each
// run unit's figures are taken whole from the side that ran it last, never name
// by name. A name-by-name union keeps figure names a benchmark no longer reports
// and mixes runs measured hours apart under one heading (how docsize's render
// figures from before the incremental writer survived a later docsize run: an
// older branch's latest.json was merged over it).
//
// A run unit is a benchmark (`docsize`), or, for a benchmark whose variants run
// on their own (`LOCKSTEP_BENCH_LATENCY_RUNS=1920x1080.warm`), one variant of it
// (`latency.1920x1080.warm`), or one fault kind of the cluster chaos run
// (`LOCKSTEP_CHAOS_CLUSTER_KINDS=kill-shown-home` → `chaos-cluster.kill-shown-home`):
// each variant's figures come from one run and keep their own date, machine and load.
import type { BenchResult } from './report.js';

/** Benchmarks whose variants run separately: how many dot-separated parts name a variant (`latency.1280x720.warm`). */
export const VARIANT_PARTS: Readonly<Record<string, number>> = { latency: 3, 'tab-memory': 3, 'chaos-cluster': 2 };

/** The benchmark a figure belongs to: its name up to the first dot (`docsize.1k.render` → `docsize`). */
export function benchOf(name: string): string {
  const dot = name.indexOf('.');
  return dot === -1 ? name : name.slice(0, dot);
}

/**
 * The run unit a figure belongs to: its benchmark, or the variant of a benchmark whose variants run
 * separately (`latency.1920x1080.warm.p50` → `latency.1920x1080.warm`).
 */
export function unitOf(name: string): string {
  const parts = VARIANT_PARTS[benchOf(name)];
  if (parts === undefined) return benchOf(name);
  const segments = name.split('.');
  return segments.length > parts ? segments.slice(0, parts).join('.') : benchOf(name);
}

/** The latest date any of `results` was measured (ISO strings sort by time), '' when none is stamped. */
function newest(results: readonly BenchResult[]): string {
  let max = '';
  for (const r of results) if (r.measured && r.measured.date > max) max = r.measured.date;
  return max;
}

function byUnit(results: readonly BenchResult[]): Map<string, BenchResult[]> {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const unit = unitOf(r.name);
    const group = groups.get(unit) ?? [];
    group.push(r);
    groups.set(unit, group);
  }
  return groups;
}

/**
 * `ours` and `theirs` merged run unit by run unit: the side whose figures of that unit were measured last
 * gives all of them (a tie keeps ours); a unit only one side has comes from that side. Order: ours' units
 * first, in their order, then those only theirs has.
 */
export function mergeResults(ours: readonly BenchResult[], theirs: readonly BenchResult[]): BenchResult[] {
  const a = byUnit(ours);
  const b = byUnit(theirs);
  const out: BenchResult[] = [];
  for (const [unit, mine] of a) {
    const other = b.get(unit);
    out.push(...(other && newest(other) > newest(mine) ? other : mine));
  }
  for (const [unit, other] of b) if (!a.has(unit)) out.push(...other);
  return out;
}

/** What a (partial) bench run covered. */
export interface RunCoverage {
  /** Benchmarks that ran whole: every earlier figure of theirs goes, reported again or not. */
  whole: ReadonlySet<string>;
  /** Benchmarks that ran only some variants: the units this run reported replace theirs, the others stay. */
  partial: ReadonlySet<string>;
}

/**
 * The report after a bench run: the earlier figures this run did not cover, in their order, with each
 * unit it reported in the place of that unit's old figures (a unit new to the report follows the last one of
 * its benchmark, or goes at the end). A variant of a partially run benchmark that this run did not report
 * keeps its earlier figures, with their own dates and loads.
 */
export function afterRun(
  previous: readonly BenchResult[],
  fresh: readonly BenchResult[],
  covered: RunCoverage,
): BenchResult[] {
  const freshUnits = byUnit(fresh);
  const dropped = (r: BenchResult) =>
    covered.whole.has(benchOf(r.name)) || (covered.partial.has(benchOf(r.name)) && freshUnits.has(unitOf(r.name)));
  const groups: Array<{ unit: string; results: BenchResult[] }> = [];
  for (const [unit, group] of byUnit(previous)) {
    const kept = group.filter((r) => !dropped(r));
    const replacement = freshUnits.get(unit);
    if (replacement) groups.push({ unit, results: replacement });
    else if (kept.length > 0) groups.push({ unit, results: kept });
  }
  for (const [unit, group] of freshUnits) {
    if (groups.some((g) => g.unit === unit)) continue;
    const bench = benchOf(unit);
    let at = groups.length;
    for (let i = 0; i < groups.length; i++) if (benchOf(groups[i]?.unit ?? '') === bench) at = i + 1;
    groups.splice(at, 0, { unit, results: group });
  }
  return groups.flatMap((g) => g.results);
}

/**
 * Run units whose figures do not come from one run: figures measured more than `withinMs` apart under one
 * unit (a run of the slowest benchmark takes a few minutes; the variants of a partially run benchmark are
 * units of their own).
 */
export function mixedRuns(results: readonly BenchResult[], withinMs = 30 * 60_000): string[] {
  const mixed: string[] = [];
  for (const [unit, group] of byUnit(results)) {
    const times = group.flatMap((r) => (r.measured ? [Date.parse(r.measured.date)] : []));
    if (times.length > 1 && Math.max(...times) - Math.min(...times) > withinMs) mixed.push(unit);
  }
  return mixed;
}
