// The viewer-cost figures' /proc parsing (bench/lib/proc-stats.ts), on fixtures
// copied from real files (a comm with spaces and parentheses, Pss_* lines that
// must not be taken for Pss).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { cpuPercent, parseCpuTicks, parsePssKiB } from '../../bench/lib/proc-stats.js';

const FIXTURES = join(import.meta.dirname, '..', 'fixtures', 'proc');

test('Pss comes from its own line of smaps_rollup, not Pss_Anon or Pss_Dirty', () => {
  assert.equal(parsePssKiB(readFileSync(join(FIXTURES, 'smaps_rollup'), 'utf8')), 198765);
});

test('a smaps_rollup without Pss gives NaN, not 0', () => {
  assert.ok(Number.isNaN(parsePssKiB('Rss: 10 kB\nPss_Anon: 5 kB\n')));
});

test('utime + stime are read after the last parenthesis of the comm', () => {
  assert.equal(parseCpuTicks(readFileSync(join(FIXTURES, 'stat'), 'utf8')), 1234 + 567);
});

test('a truncated stat gives NaN', () => {
  assert.ok(Number.isNaN(parseCpuTicks('4242 (chromium) S 1 2')));
  assert.ok(Number.isNaN(parseCpuTicks('garbage')));
});

test('CPU share sums every process of the window: old ones by difference, new ones from zero', () => {
  const before = new Map([
    [1, 100],
    [2, 50],
  ]);
  // pid 1 used 20 ticks, pid 2 exited (lost), pid 3 started and used 30; 100 ticks/s over 2 s.
  const after = new Map([
    [1, 120],
    [3, 30],
  ]);
  assert.equal(cpuPercent(before, after, 2, 100), 25);
});

test('a reused pid with fewer ticks than before counts from zero', () => {
  assert.equal(cpuPercent(new Map([[7, 500]]), new Map([[7, 40]]), 1, 100), 40);
});
