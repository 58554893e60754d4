// `npm run chaos`: the long chaos run (default 2 minutes at 20 keys/s) across
// test hosts in their own network namespaces; prints and writes a report to
// bench/results/chaos.json and chaos.md.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { loadavg } from 'node:os';
import { chaosMarkdown, runChaos } from './lib/chaos-run.js';
import { FAULT_KINDS, type FaultKind } from './lib/faults.js';
import { ROOT } from './lib/launcher.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

const isFaultKind = (k: string): k is FaultKind => (FAULT_KINDS as readonly string[]).includes(k);

function faultKinds(list: string): FaultKind[] {
  const names = list.split(',').map((k) => k.trim());
  const bad = names.filter((k) => !isFaultKind(k));
  if (bad.length > 0)
    throw new Error(`LOCKSTEP_CHAOS_KINDS: unknown ${bad.join(', ')} (one of ${FAULT_KINDS.join(', ')})`);
  return names.filter(isFaultKind);
}

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
    // e.g. LOCKSTEP_CHAOS_KINDS=hang,partition LOCKSTEP_CHAOS_SHOWN_SHARE=1: the stale-stream gap only.
    ...(process.env.LOCKSTEP_CHAOS_KINDS ? { kinds: faultKinds(process.env.LOCKSTEP_CHAOS_KINDS) } : {}),
    shownShare: env('LOCKSTEP_CHAOS_SHOWN_SHARE', 0.6),
    log: (l) => process.stdout.write(`[chaos] ${l}\n`),
  });
  const md = chaosMarkdown(report);
  process.stdout.write(`\n${md}`);
  mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
  // LOCKSTEP_CHAOS_OUT names the report files (default chaos: bench/results/chaos.{json,md}).
  const name = process.env.LOCKSTEP_CHAOS_OUT ?? 'chaos';
  if (!/^[\w.-]+$/.test(name)) throw new Error(`LOCKSTEP_CHAOS_OUT must be a plain file name, not ${name}`);
  const out = join(ROOT, 'bench/results', name);
  writeFileSync(
    `${out}.json`,
    JSON.stringify({ ...report, load: loadavg().map((l) => Math.round(l * 100) / 100) }, null, 2),
  );
  writeFileSync(
    `${out}.md`,
    `${md}\nLoad average at the end (1, 5, 15 min): ${loadavg()
      .map((l) => l.toFixed(2))
      .join(', ')}.\n`,
  );
  process.exit(report.lostInputs === 0 && report.textMatches && report.hashesEqual ? 0 : 1);
}

main().catch((err: unknown) => {
  process.stderr.write(`[chaos] failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
