// The long chaos run as a benchmark (npm run bench / --only chaos): 2 minutes
// at 20 keys/s over renderer hosts in their own network namespaces. Reports
// the visible gap, detection and recovery per fault kind, and lost inputs;
// writes the full report to bench/results/chaos.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chaosMarkdown, runChaos, type GapSummary } from '../scripts/lib/chaos-run.js';
import { collector, formatResult, isMain, RESULTS_DIR, type BenchResult } from './lib/report.js';

/** A fault kind's visible-gap p50 as a figure (p95, max and timeouts in its detail); null without samples. */
export function gapFigure(
  prefix: string,
  k: GapSummary & { count: number },
  detail: Record<string, number | string>,
): BenchResult | null {
  if (k.gapP50 === null) return null;
  return {
    name: `${prefix}.visible-gap-p50`,
    value: k.gapP50,
    unit: 'ms',
    detail: { ...detail, count: k.count, p95: k.gapP95 ?? 'n/a', max: k.gapMax ?? 'n/a', timeouts: k.gapTimeouts },
  };
}

export async function runChaosBench(onResult: (r: BenchResult) => void = () => undefined): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  const report = await runChaos({
    seconds: Number(process.env.LOCKSTEP_CHAOS_SECONDS ?? 120),
    keysPerSecond: 20,
    hosts: 5,
    replicationFactor: 3,
    serverRestarts: 2,
    faultMs: 6000,
    seed: Number(process.env.LOCKSTEP_CHAOS_SEED ?? 2026),
    width: 640,
    height: 360,
  });
  mkdirSync(RESULTS_DIR, { recursive: true });
  writeFileSync(join(RESULTS_DIR, 'chaos.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(RESULTS_DIR, 'chaos.md'), chaosMarkdown(report));
  const detail = { network: report.network, seed: report.seed, seconds: report.seconds };
  for (const [kind, k] of Object.entries(report.byKind)) {
    const gap = gapFigure(`chaos.${kind}`, k, detail);
    if (gap) add(gap);
    if (k.detectP50 !== null)
      add({
        name: `chaos.${kind}.detect-p50`,
        value: k.detectP50,
        unit: 'ms',
        detail: {
          ...detail,
          count: k.count,
          note: "fault → the server's first session.update judging the replica stale or dead",
        },
      });
    if (k.restoreP50 !== null)
      add({
        name: `chaos.${kind}.restore-r-p50`,
        value: k.restoreP50,
        unit: 'ms',
        detail: { ...detail, count: k.count },
      });
  }
  add({
    name: 'chaos.lost-inputs',
    value: report.lostInputs,
    unit: 'inputs',
    detail: {
      ...detail,
      typed: report.typedChars,
      hashesEqual: String(report.hashesEqual),
      staleShown: report.staleShown,
    },
  });
  return results;
}

if (isMain(import.meta.url)) {
  runChaosBench((r) => console.log(formatResult(r))).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
