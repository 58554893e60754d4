// Two bench/results/latest.json result lists made one (a merge of two branches
// that both ran benchmarks): each benchmark's figures are taken whole from the
// side that ran it last, never name by name. A name-by-name union keeps figure
// names a benchmark no longer reports and mixes runs measured hours apart under
// one heading (how docsize's render figures from before the incremental writer
// survived a later docsize run: an older branch's latest.json was merged over it).
import type { BenchResult } from './report.js';

/** The benchmark a figure belongs to: its name up to the first dot (`docsize.1k.render` → `docsize`). */
export function benchOf(name: string): string {
  const dot = name.indexOf('.');
  return dot === -1 ? name : name.slice(0, dot);
}

/** The latest date any of `results` was measured (ISO strings sort by time), '' when none is stamped. */
function newest(results: readonly BenchResult[]): string {
  let max = '';
  for (const r of results) if (r.measured && r.measured.date > max) max = r.measured.date;
  return max;
}

function byBench(results: readonly BenchResult[]): Map<string, BenchResult[]> {
  const groups = new Map<string, BenchResult[]>();
  for (const r of results) {
    const bench = benchOf(r.name);
    const group = groups.get(bench) ?? [];
    group.push(r);
    groups.set(bench, group);
  }
  return groups;
}

/**
 * `ours` and `theirs` merged benchmark by benchmark: the side whose figures of that benchmark were measured
 * last gives all of them (a tie keeps ours); a benchmark only one side has comes from that side. Order: ours'
 * benchmarks first, in their order, then those only theirs has.
 */
export function mergeResults(ours: readonly BenchResult[], theirs: readonly BenchResult[]): BenchResult[] {
  const a = byBench(ours);
  const b = byBench(theirs);
  const out: BenchResult[] = [];
  for (const [bench, mine] of a) {
    const other = b.get(bench);
    out.push(...(other && newest(other) > newest(mine) ? other : mine));
  }
  for (const [bench, other] of b) if (!a.has(bench)) out.push(...other);
  return out;
}

/**
 * Benchmarks whose figures do not come from one run: figures measured more than `withinMs` apart under one
 * benchmark's name (a run of the slowest benchmark takes a few minutes).
 */
export function mixedRuns(results: readonly BenchResult[], withinMs = 30 * 60_000): string[] {
  const mixed: string[] = [];
  for (const [bench, group] of byBench(results)) {
    const times = group.flatMap((r) => (r.measured ? [Date.parse(r.measured.date)] : []));
    if (times.length > 1 && Math.max(...times) - Math.min(...times) > withinMs) mixed.push(bench);
  }
  return mixed;
}
