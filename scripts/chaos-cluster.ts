// `npm run chaos:cluster [-- --seconds N]`: the cluster chaos run (default
// 2 minutes at 20 keys/s, then until every fault kind was injected once) as
// the chaos-cluster benchmark: printed, written to bench/results/ (latest.*
// through bench/lib's writeResults, and chaos-cluster.{json,md}). Exits
// non-zero when an input was lost or the replicas disagree.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from './lib/launcher.js';

function seconds(argv: readonly string[]): number {
  const i = argv.findIndex((a) => a === '--seconds' || a.startsWith('--seconds='));
  if (i === -1) return Number(process.env.LOCKSTEP_CHAOS_CLUSTER_SECONDS ?? 120);
  const arg = argv[i] ?? '';
  const text = arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[i + 1] ?? '');
  const n = Number(text);
  if (!/^\d+$/.test(text) || n < 10 || n > 3600) {
    process.stderr.write(`--seconds takes a whole number from 10 to 3600, got "${text}"\n`);
    process.exit(2);
  }
  return n;
}

const run = spawnSync(process.execPath, ['--import', 'tsx', join(ROOT, 'bench/run.ts'), '--only', 'chaos-cluster'], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, LOCKSTEP_CHAOS_CLUSTER_SECONDS: String(seconds(process.argv.slice(2))) },
});
if (run.status !== 0) process.exit(run.status ?? 1);
const report = JSON.parse(readFileSync(join(ROOT, 'bench/results/chaos-cluster.json'), 'utf8')) as {
  lostInputs: number;
  textMatches: boolean;
  hashesEqual: boolean;
};
process.exit(report.lostInputs === 0 && report.textMatches && report.hashesEqual ? 0 : 1);
