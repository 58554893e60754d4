// bench/results/latest.json holds each benchmark's figures from one run: a
// docsize run reports exactly DOCSIZE_FIGURES, and merging two branches'
// results takes each benchmark whole from the side that ran it last
// (bench/lib/results-merge.ts), so stale names and hours-old figures cannot
// hide under a newer run's heading.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DOCSIZE_FIGURES } from '../../bench/docsize.js';
import type { BenchResult } from '../../bench/lib/report.js';
import { benchOf, mergeResults, mixedRuns } from '../../bench/lib/results-merge.js';
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
