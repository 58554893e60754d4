// bench/results/latest.json holds each benchmark's figures from one run: a
// docsize run reports exactly DOCSIZE_FIGURES, and merging two branches'
// results takes each benchmark whole from the side that ran it last
// (bench/lib/results-merge.ts), so stale names and hours-old figures cannot
// hide under a newer run's heading.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOCSIZE_FIGURES } from '../../bench/docsize.js';
import type { BenchResult } from '../../bench/lib/report.js';
import { afterRun, benchOf, mergeResults, mixedRuns, unitOf } from '../../bench/lib/results-merge.js';
import { latencyRunSelected, latencyRunsAsked } from '../../bench/lib/latency-runs.js';
import { readLatest } from '../../scripts/readme-figures.js';

const at = (name: string, value: number, date: string): BenchResult => ({
  name,
  value,
  unit: 'ms',
  measured: { date, machine: 'test', loadAverage1m: 1 },
});

test("latest.json's docsize figures are exactly the ones a docsize run reports, from one run", () => {
  const docsize = readLatest().results.filter((r) => benchOf(r.name) === 'docsize');
  assert.deepEqual(
    docsize.map((r) => r.name),
    [...DOCSIZE_FIGURES],
  );
  assert.deepEqual(mixedRuns(docsize), []);
});

test("every benchmark's figures in latest.json come from one run", () => {
  assert.deepEqual(mixedRuns(readLatest().results), []);
});

test('a merge takes each benchmark whole from the side that ran it last; stale names go with the old run', () => {
  const ours = [
    at('docsize.1k.render', 2, '2026-12-02T18:00:00.000Z'),
    at('docsize.1k.apply', 0.1, '2026-12-02T18:00:00.000Z'),
    at('pipeline.frame', 8, '2026-12-01T10:00:00.000Z'),
  ];
  const theirs = [
    at('docsize.1k.render', 11, '2026-12-02T01:00:00.000Z'),
    at('docsize.1k.snapshot-hash', 0.1, '2026-12-02T01:00:00.000Z'),
    at('pipeline.frame', 7, '2026-12-02T12:00:00.000Z'),
    at('peer.p50', 30, '2026-12-02T16:00:00.000Z'),
  ];
  const merged = mergeResults(ours, theirs);
  assert.deepEqual(
    merged.map((r) => [r.name, r.value]),
    [
      ['docsize.1k.render', 2],
      ['docsize.1k.apply', 0.1],
      ['pipeline.frame', 7],
      ['peer.p50', 30],
    ],
  );
  // A name-by-name union would have mixed the two docsize runs.
  assert.deepEqual(mixedRuns([...ours, ...theirs.slice(0, 2)]), ['docsize']);
  assert.deepEqual(mixedRuns(merged), []);
});

test('a latency variant is a run unit of its own; other benchmarks are one unit', () => {
  assert.equal(unitOf('latency.1920x1080.warm.p50'), 'latency.1920x1080.warm');
  assert.equal(unitOf('tab-memory.640x480.hot.js-heap'), 'tab-memory.640x480.hot');
  assert.equal(unitOf('docsize.1k.render'), 'docsize');
  assert.equal(unitOf('peer.lockstep.p50'), 'peer');
  // Variants measured at different times are not mixed runs; one variant's figures hours apart are.
  const variants = [
    at('latency.1280x720.warm.p50', 23, '2026-12-01T21:54:00.000Z'),
    at('latency.1280x720.warm.p95', 35, '2026-12-01T21:55:00.000Z'),
    at('latency.1920x1080.warm.p50', 30, '2026-12-02T22:10:00.000Z'),
  ];
  assert.deepEqual(mixedRuns(variants), []);
  assert.deepEqual(mixedRuns([...variants, at('latency.1920x1080.warm.p95', 40, '2026-12-02T08:00:00.000Z')]), [
    'latency.1920x1080.warm',
  ]);
  // A benchmark without variants stays one unit: two of its figures hours apart are mixed.
  assert.deepEqual(
    mixedRuns([
      at('peer.noVNC.p50', 30, '2026-12-02T08:00:00.000Z'),
      at('peer.lockstep.p50', 20, '2026-12-02T20:00:00.000Z'),
    ]),
    ['peer'],
  );
});

test('a run of some latency variants replaces only those; a whole run drops what it no longer reports', () => {
  const previous = [
    at('pipeline.frame', 8, '2026-12-01T10:00:00.000Z'),
    at('latency.640x480.warm.p50', 26, '2026-12-01T21:54:00.000Z'),
    at('latency.1280x720.warm.p50', 28, '2026-12-01T21:54:00.000Z'),
    at('latency.1280x720.warm.p95', 44, '2026-12-01T21:54:00.000Z'),
    at('tab-memory.1280x720.warm.js-heap', 3, '2026-12-01T21:54:00.000Z'),
    at('peer.lockstep.p50', 19, '2026-12-02T20:13:00.000Z'),
  ];
  const fresh = [
    at('latency.1280x720.warm.p50', 22, '2026-12-02T22:00:00.000Z'),
    at('latency.1920x1080.warm.p50', 31, '2026-12-02T22:05:00.000Z'),
    at('latency.1920x1080.warm.p95', 45, '2026-12-02T22:05:00.000Z'),
  ];
  const partial = afterRun(previous, fresh, { whole: new Set(), partial: new Set(['latency']) });
  assert.deepEqual(
    partial.map((r) => [r.name, r.value]),
    [
      ['pipeline.frame', 8],
      ['latency.640x480.warm.p50', 26],
      // The re-run variant is taken whole: its old p95 (not reported this time) goes with its old run.
      ['latency.1280x720.warm.p50', 22],
      ['latency.1920x1080.warm.p50', 31],
      ['latency.1920x1080.warm.p95', 45],
      ['tab-memory.1280x720.warm.js-heap', 3],
      ['peer.lockstep.p50', 19],
    ],
  );
  // Each kept variant has its own date.
  assert.equal(partial[1]?.measured?.date, '2026-12-01T21:54:00.000Z');
  assert.deepEqual(mixedRuns(partial), []);
  const whole = afterRun(previous, fresh, { whole: new Set(['latency']), partial: new Set() });
  assert.deepEqual(
    whole.map((r) => r.name),
    [
      'pipeline.frame',
      'latency.1280x720.warm.p50',
      'latency.1920x1080.warm.p50',
      'latency.1920x1080.warm.p95',
      'tab-memory.1280x720.warm.js-heap',
      'peer.lockstep.p50',
    ],
  );
});

test('a cluster chaos run of some fault kinds replaces only those kinds and the lost-input count', () => {
  assert.equal(unitOf('chaos-cluster.kill-shown-home.visible-gap-p50'), 'chaos-cluster.kill-shown-home');
  assert.equal(unitOf('chaos-cluster.lost-inputs'), 'chaos-cluster');
  const previous = [
    at('chaos-cluster.partition-server.visible-gap-p50', 182, '2026-12-02T23:10:00.000Z'),
    at('chaos-cluster.kill-shown-home.visible-gap-p50', 160, '2026-12-02T23:10:00.000Z'),
    at('chaos-cluster.kill-shown-home.input-stall-max', 18, '2026-12-02T23:10:00.000Z'),
    at('chaos-cluster.lost-inputs', 0, '2026-12-02T23:10:00.000Z'),
  ];
  const fresh = [
    at('chaos-cluster.kill-shown-home.visible-gap-p50', 188, '2026-12-02T23:40:00.000Z'),
    at('chaos-cluster.lost-inputs', 0, '2026-12-02T23:40:00.000Z'),
  ];
  const after = afterRun(previous, fresh, { whole: new Set(), partial: new Set(['chaos-cluster']) });
  assert.deepEqual(
    after.map((r) => [r.name, r.value, r.measured?.date.slice(11, 16)]),
    [
      ['chaos-cluster.partition-server.visible-gap-p50', 182, '23:10'],
      // The re-run kind is taken whole: its stall (not reported this time) goes with its old run.
      ['chaos-cluster.kill-shown-home.visible-gap-p50', 188, '23:40'],
      ['chaos-cluster.lost-inputs', 0, '23:40'],
    ],
  );
  assert.deepEqual(mixedRuns(after), []);
});

test('LOCKSTEP_BENCH_LATENCY_RUNS picks variants by label; unset runs all', () => {
  assert.deepEqual(latencyRunsAsked({}), []);
  assert.equal(latencyRunSelected('640x480.hot', {}), true);
  const env = { LOCKSTEP_BENCH_LATENCY_RUNS: '1920x1080.warm, 1280x720.warm' };
  assert.deepEqual(latencyRunsAsked(env), ['1920x1080.warm', '1280x720.warm']);
  assert.equal(latencyRunSelected('1280x720.warm', env), true);
  assert.equal(latencyRunSelected('1280x720.hot', env), false);
});
