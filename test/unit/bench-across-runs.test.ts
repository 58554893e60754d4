// Latency figures are the median of three runs quoted with each run and the
// spread (bench/lib/across-runs.ts), and the README quotes the spread.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { acrossRuns } from '../../bench/lib/across-runs.js';
import type { BenchResult } from '../../bench/lib/report.js';
import { figuresBlock } from '../../scripts/readme-figures.js';

const run = (p50: number, p95: number): BenchResult[] => [
  { name: 'latency.1280x720.warm.p50', value: p50, unit: 'ms', detail: { keystrokes: 200 } },
  { name: 'latency.1280x720.warm.p95', value: p95, unit: 'ms' },
];

/** The README block of `results`, on a made-up machine. */
const blockOf = (results: BenchResult[]): string =>
  figuresBlock({
    machine: {
      cpuModel: 'c',
      cores: 2,
      totalMemoryMB: 1,
      node: 'v20',
      os: 'l',
      loadAverage1m: 1,
      date: '2026-12-02T00:00:00Z',
    },
    results,
  });

test('the median run is the figure; every run and the spread are stored', () => {
  const runs = [run(30, 50), run(45, 90), run(28, 44)];
  const p50 = acrossRuns(runs[0]?.[0] as BenchResult, runs);
  assert.equal(p50.value, 30);
  assert.equal(p50.detail?.runs, '30 / 45 / 28');
  assert.equal(p50.detail?.spread, '28–45');
  assert.equal(p50.detail?.keystrokes, 200);
  const p95 = acrossRuns(runs[0]?.[1] as BenchResult, runs);
  assert.equal(p95.value, 50);
  assert.equal(p95.detail?.spread, '44–90');
});

test('a run missing a figure shows as NaN and does not shift the median', () => {
  const runs = [run(30, 50), [], run(40, 60)];
  const r = acrossRuns(runs[0]?.[0] as BenchResult, runs);
  assert.equal(r.value, 30);
  assert.equal(r.detail?.runs, '30 / NaN / 40');
});

test('the README row quotes the spread of the runs', () => {
  const runs = [run(30, 50), run(45, 90), run(28, 44)];
  const results = (runs[0] ?? []).map((r) => acrossRuns(r, runs));
  const block = blockOf(results);
  assert.match(block, /30 ms \(runs 28–45\) \/ 50 ms \(runs 44–90\)/);
});

test('the peer rows quote the spread of the runs, ratios included', () => {
  const peerRun = (lockstep: number, novnc: number, cpu: number): BenchResult[] => [
    { name: 'peer.lockstep.p50', value: lockstep, unit: 'ms' },
    { name: 'peer.lockstep.p95', value: lockstep + 10, unit: 'ms' },
    { name: 'peer.noVNC.p50', value: novnc, unit: 'ms' },
    { name: 'peer.noVNC.p95', value: novnc + 5, unit: 'ms' },
    { name: 'peer.ratio.p50', value: Math.round((lockstep / novnc) * 100) / 100, unit: '×' },
    { name: 'peer.ratio.p95', value: Math.round(((lockstep + 10) / (novnc + 5)) * 100) / 100, unit: '×' },
    { name: 'peer.viewer-pss.lockstep', value: 400, unit: 'MB' },
    { name: 'peer.viewer-pss.noVNC', value: 410, unit: 'MB' },
    { name: 'peer.viewer-cpu.lockstep', value: cpu, unit: '%' },
    { name: 'peer.viewer-cpu.noVNC', value: 10, unit: '%' },
    { name: 'peer.viewer-cpu.ratio', value: cpu / 10, unit: '×' },
  ];
  const runs = [peerRun(20, 30, 15), peerRun(30, 30, 12), peerRun(24, 32, 20)];
  const results = (runs[0] ?? []).map((r) => acrossRuns(r, runs));
  const block = blockOf(results);
  assert.match(block, /24 ms \(runs 20–30\) \/ 34 ms \(runs 30–40\) vs 30 ms \(runs 30–32\)/);
  // The ratio is the median of the per-run ratios (0.67, 1, 0.75), not a ratio of medians.
  assert.match(block, /\(0\.75× \(runs 0\.67–1\)/);
  assert.match(block, /15 % \(runs 12–20\) vs 410 MB \/ 10 % \(runs 10–10\) of a core, ratio 1\.5× \(runs 1\.2–2\)/);
});
