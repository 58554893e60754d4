// Runs every benchmark in sequence, prints each figure as it arrives, and
// writes bench/results/latest.{json,md} plus a dated copy.
// Usage: npm run bench [-- --only pipeline,catch-up]
// (names: pipeline, catch-up, durable-append, election, memory, docsize, renderer-cpu, standby-cpu, latency, tab-memory,
// false-switches, failover, fanout, chaos, chaos-cluster, node-install, peer, etcd-growth, tile-display)
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { latencyRunsAsked } from './lib/latency-runs.js';
import { afterRun } from './lib/results-merge.js';
import {
  formatResult,
  machine,
  measuredBy,
  RESULTS_DIR,
  stamped,
  writeResults,
  type BenchResult,
  type MachineInfo,
} from './lib/report.js';

// Quiet logs in this process unless asked otherwise (the logger reads this at import).
process.env.LOCKSTEP_LOG_LEVEL ??= 'warn';

type Runner = (onResult: (r: BenchResult) => void) => Promise<BenchResult[]>;

/** A variant-limited run (LOCKSTEP_BENCH_LATENCY_RUNS): the variants it skips keep their figures. */
const someLatencyRuns = () => latencyRunsAsked().length > 0;
/** A kind-limited cluster chaos run (LOCKSTEP_CHAOS_CLUSTER_KINDS, bench/chaos-cluster.ts): the other kinds keep theirs. */
const someChaosKinds = () => (process.env.LOCKSTEP_CHAOS_CLUSTER_KINDS ?? '').trim() !== '';

// Imported lazily so the log level above applies and --only skips what it skips.
// `partial`: this run measures only some of the benchmark's variants (results-merge.ts, VARIANT_PARTS).
const BENCHMARKS: ReadonlyArray<{ name: string; run: () => Promise<Runner>; partial?: () => boolean }> = [
  { name: 'pipeline', run: async () => (await import('./pipeline.js')).runPipeline },
  { name: 'catch-up', run: async () => (await import('./catch-up.js')).runCatchUp },
  { name: 'durable-append', run: async () => (await import('./durable-append.js')).runDurableAppend },
  { name: 'election', run: async () => (await import('./election.js')).runElection },
  // etcd DB size per session-hour of typing, with and without the leader's upkeep.
  { name: 'etcd-growth', run: async () => (await import('./etcd-growth.js')).runEtcdGrowth },
  { name: 'memory', run: async () => (await import('./memory.js')).runMemory },
  // The writer's per-keystroke apply, render and hash against the document's size.
  { name: 'docsize', run: async () => (await import('./docsize.js')).runDocSize },
  { name: 'renderer-cpu', run: async () => (await import('./renderer-cpu.js')).runRendererCpu },
  // The shown renderer next to its warm (and hot) standbys, with a real viewer.
  { name: 'standby-cpu', run: async () => (await import('./standby-cpu.js')).runStandbyCpu },
  // Browser-level: real server, renderer nodes and headless Chromium.
  { name: 'latency', run: async () => (await import('./latency.js')).runLatency, partial: someLatencyRuns },
  // Reuses the latency runs' measurements when latency ran first.
  { name: 'tab-memory', run: async () => (await import('./latency.js')).runTabMemory, partial: someLatencyRuns },
  // ≥ 1,000 keys with no fault in the default demo shape: every switch is a false one, logged with its cause.
  { name: 'false-switches', run: async () => (await import('./false-switches.js')).runFalseSwitches },
  { name: 'failover', run: async () => (await import('./failover.js')).runFailover },
  { name: 'fanout', run: async () => (await import('./fanout.js')).runFanout },
  // The long chaos run (2 minutes; its full report goes to bench/results/chaos.md).
  { name: 'chaos', run: async () => (await import('./chaos.js')).runChaosBench },
  // Servers and etcd members killed, stopped, partitioned while typing (3 servers over etcd; bench/results/chaos-cluster.md).
  {
    name: 'chaos-cluster',
    run: async () => (await import('./chaos-cluster.js')).runClusterChaosBench,
    partial: someChaosKinds,
  },
  // A spare PC from `git clone` to hosting a replica (registry downloads, canvas compile).
  { name: 'node-install', run: async () => (await import('./node-install.js')).runNodeInstall },
  // Lockstep beside a VNC peer (installs TigerVNC, noVNC, websockify, xterm from Debian first).
  { name: 'peer', run: async () => (await import('./peer.js')).runPeer },
  // Issue #18 point 6 (a spike): the shown stream as damage tiles in a canvas, beside the VP8 path and noVNC.
  { name: 'tile-display', run: async () => (await import('./tile-display.js')).runTileDisplay },
];

function previousResults(): BenchResult[] {
  try {
    const body = JSON.parse(readFileSync(join(RESULTS_DIR, 'latest.json'), 'utf8')) as {
      results?: BenchResult[];
      machine?: MachineInfo;
    };
    if (!Array.isArray(body.results)) return [];
    // Figures from before per-figure stamps were measured when that file was written.
    const then = body.machine ? measuredBy(body.machine) : undefined;
    return then ? body.results.map((r) => stamped(r, then)) : body.results;
  } catch {
    return [];
  }
}

function selected(argv: readonly string[]): Set<string> {
  const names = BENCHMARKS.map((b) => b.name);
  const i = argv.findIndex((a) => a === '--only' || a.startsWith('--only='));
  if (i === -1) return new Set(names);
  const arg = argv[i] ?? '';
  const list = (arg.includes('=') ? arg.slice(arg.indexOf('=') + 1) : (argv[i + 1] ?? ''))
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const unknown = list.filter((n) => !names.includes(n));
  if (list.length === 0 || unknown.length > 0) {
    console.error(
      `--only takes a comma-separated list of: ${names.join(', ')}${unknown.length ? ` (unknown: ${unknown.join(', ')})` : ''}`,
    );
    process.exit(2);
  }
  return new Set(list);
}

const only = selected(process.argv.slice(2));
const results: BenchResult[] = [];
const failed: string[] = [];
const started = performance.now();
for (const bench of BENCHMARKS) {
  if (!only.has(bench.name)) continue;
  console.log(`\n== ${bench.name}`);
  const t0 = performance.now();
  try {
    const run = await bench.run();
    await run((r) => {
      // Each figure carries its own date and load, taken as it arrives.
      results.push(stamped(r, measuredBy(machine())));
      console.log(formatResult(r));
    });
  } catch (err) {
    // A broken benchmark is reported and the others still run; timings never fail.
    failed.push(bench.name);
    console.error(`${bench.name} failed:`, err);
  }
  console.log(`(${bench.name}: ${((performance.now() - t0) / 1000).toFixed(1)} s)`);
}

// A partial run (--only, or some variants only) refreshes its own figures and keeps the rest of the last report.
const ran = BENCHMARKS.filter((b) => only.has(b.name));
const partial = new Set(ran.filter((b) => b.partial?.() === true).map((b) => b.name));
const whole = new Set(ran.map((b) => b.name).filter((n) => !partial.has(n)));
const report = whole.size === BENCHMARKS.length ? results : afterRun(previousResults(), results, { whole, partial });
const files = writeResults(report);
console.log(`\n${results.length} results in ${((performance.now() - started) / 1000).toFixed(1)} s`);
console.log(`written: ${files.json}\n         ${files.markdown}\n         ${files.dated}`);
if (failed.length > 0) {
  console.error(`benchmarks that could not run: ${failed.join(', ')}`);
  process.exitCode = 1;
}
