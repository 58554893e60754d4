// Latency figures are the median of three runs quoted with each run and the
// spread (bench/latency.ts acrossRuns), and the README quotes the spread.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { acrossRuns } from '../../bench/latency.js';
import type { BenchResult } from '../../bench/lib/report.js';
import { figuresBlock } from '../../scripts/readme-figures.js';

const run = (p50: number, p95: number): BenchResult[] => [
  { name: 'latency.1280x720.warm.p50', value: p50, unit: 'ms', detail: { keystrokes: 200 } },
  { name: 'latency.1280x720.warm.p95', value: p95, unit: 'ms' },
];

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
  const block = figuresBlock({
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
  assert.match(block, /30 ms \(runs 28–45\) \/ 50 ms \(runs 44–90\)/);
});
