// `npm run chaos`: the long chaos run (default 2 minutes at 20 keys/s) across
// test hosts in their own network namespaces; prints and writes a report to
// bench/results/chaos.json and chaos.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { chaosMarkdown, runChaos } from './lib/chaos-run.js';
import { ROOT } from './lib/launcher.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

async function main(): Promise<void> {
  const report = await runChaos({
    seconds: env('LOCKSTEP_CHAOS_SECONDS', 120),
    keysPerSecond: env('LOCKSTEP_CHAOS_KEYS_PER_SECOND', 20),
    hosts: env('LOCKSTEP_CHAOS_HOSTS', 5),
    replicationFactor: 3,
    serverRestarts: env('LOCKSTEP_CHAOS_SERVER_RESTARTS', 2),
    faultMs: env('LOCKSTEP_CHAOS_FAULT_MS', 6000),
    seed: env('LOCKSTEP_CHAOS_SEED', Date.now() % 100000),
    width: 640,
    height: 360,
    loopback: process.env.LOCKSTEP_CHAOS_LOOPBACK === '1',
    log: (l) => process.stdout.write(`[chaos] ${l}\n`),
  });
  const md = chaosMarkdown(report);
  process.stdout.write(`\n${md}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench/results/chaos.json'), JSON.stringify(report, null, 2));
  writeFileSync(join(ROOT, 'bench/results/chaos.md'), md);
  process.exit(report.lostInputs === 0 && report.textMatches && report.hashesEqual ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`[chaos] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
