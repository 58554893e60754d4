// A figure measured over several runs: the median run is the figure, quoted with
// every run's value and the spread (the README quotes the spread, issue #18 point 7).
import type { BenchResult } from './report.js';

/** The figure `first` (of run 1) as the median over the runs, with each run's value and the spread. */
export function acrossRuns(first: BenchResult, runs: readonly BenchResult[][]): BenchResult {
  const values = runs.map((run) => run.find((x) => x.name === first.name)?.value ?? Number.NaN);
  const ok = values.filter(Number.isFinite).sort((a, b) => a - b);
  const median = ok.length === 0 ? Number.NaN : (ok[Math.floor((ok.length - 1) / 2)] ?? Number.NaN);
  return {
    ...first,
    value: median,
    detail: {
      ...first.detail,
      runs: values.join(' / '),
      spread: ok.length === 0 ? 'n/a' : `${ok[0]}–${ok[ok.length - 1]}`,
      ...(first.detail ? { detailOf: 'run 1' } : {}),
    },
  };
}
