// The cluster chaos run as a benchmark (npm run chaos:cluster, or npm run
// bench -- --only chaos-cluster): 3 servers over 3 etcd members and 3
// renderer nodes, a typist in Chromium at 20 keys/s, every server and etcd
// fault kind in turn (LOCKSTEP_CHAOS_CLUSTER_SECONDS, default 120). Reports
// per fault kind the visible gap, the input stall, re-home and re-election
// times, and lost inputs; writes the full report to
// bench/results/chaos-cluster.{json,md}.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  CLUSTER_FAULT_KINDS,
  clusterChaosMarkdown,
  runClusterChaos,
  type ClusterFaultKind,
} from '../scripts/lib/cluster-chaos-run.js';
import { gapFigure } from './chaos.js';
import { collector, formatResult, isMain, load1m, RESULTS_DIR, type BenchResult } from './lib/report.js';

/** LOCKSTEP_CHAOS_CLUSTER_KINDS=kill-shown-home,partition-server: only those kinds (default every one). */
function kindsFromEnv(): ClusterFaultKind[] | undefined {
  const text = process.env.LOCKSTEP_CHAOS_CLUSTER_KINDS;
  if (!text) return undefined;
  const kinds = text.split(',').map((k) => k.trim());
  const unknown = kinds.filter((k) => !(CLUSTER_FAULT_KINDS as readonly string[]).includes(k));
  if (unknown.length > 0) throw new Error(`LOCKSTEP_CHAOS_CLUSTER_KINDS: unknown kind ${unknown.join(', ')}`);
  return kinds as ClusterFaultKind[];
}

export async function runClusterChaosBench(
  onResult: (r: BenchResult) => void = () => undefined,
): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  const report = await runClusterChaos({
    seconds: Number(process.env.LOCKSTEP_CHAOS_CLUSTER_SECONDS ?? 120),
    keysPerSecond: 20,
    servers: 3,
    nodes: 3,
    replicationFactor: 2,
    seed: Number(process.env.LOCKSTEP_CHAOS_SEED ?? 2026),
    width: 640,
    height: 360,
    everyKind: true,
    ...(kindsFromEnv() ? { kinds: kindsFromEnv() } : {}),
    loopback: process.env.LOCKSTEP_CHAOS_LOOPBACK === '1',
    log: (l) => console.log(`[chaos:cluster] ${l}`),
  });
  const md = clusterChaosMarkdown(report);
  console.log(`\n${md}`);
  mkdirSync(RESULTS_DIR, { recursive: true });
  const load = load1m();
  writeFileSync(join(RESULTS_DIR, 'chaos-cluster.json'), JSON.stringify({ ...report, load1m: load }, null, 2));
  writeFileSync(join(RESULTS_DIR, 'chaos-cluster.md'), `${md}\nLoad average (1 min) at the end: ${load}.\n`);
  const detail = { network: report.network, seed: report.seed, seconds: report.seconds };
  for (const [kind, k] of Object.entries(report.byKind)) {
    const gap = gapFigure(`chaos-cluster.${kind}`, k, {
      ...detail,
      note: 'fault → the viewer shows an input typed after it',
    });
    if (gap) add(gap);
    add({
      name: `chaos-cluster.${kind}.input-stall-max`,
      value: k.stallMax,
      unit: 'ms',
      detail: { ...detail, count: k.count, note: 'longest time inputs were pending with no new ack' },
    });
    if (k.rehomeP50 !== null)
      add({ name: `chaos-cluster.${kind}.rehome-p50`, value: k.rehomeP50, unit: 'ms', detail: { ...detail } });
    if (k.reelectP50 !== null)
      add({ name: `chaos-cluster.${kind}.reelect-p50`, value: k.reelectP50, unit: 'ms', detail: { ...detail } });
  }
  add({
    name: 'chaos-cluster.lost-inputs',
    value: report.lostInputs,
    unit: 'inputs',
    detail: {
      ...detail,
      typed: report.typedChars,
      textMatches: String(report.textMatches),
      hashesEqual: String(report.hashesEqual),
      skipped: report.skipped.map((s) => s.kind).join(' ') || 'none',
    },
  });
  return results;
}

if (isMain(import.meta.url)) {
  runClusterChaosBench((r) => console.log(formatResult(r))).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
