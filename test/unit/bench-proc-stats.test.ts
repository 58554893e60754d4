// The viewer-cost figures' /proc parsing (bench/lib/proc-stats.ts), on fixtures
// copied from real files (a comm with spaces and parentheses, Pss_* lines that
// must not be taken for Pss).
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import {
  cpuByLabel,
  cpuPercent,
  nodeThreadGroup,
  parseComm,
  parseCpuTicks,
  parsePssKiB,
} from '../../bench/lib/proc-stats.js';

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

test('a thread name is read between the outer parentheses of its stat', () => {
  assert.equal(parseComm('4243 (VizCompositorTh) S 1 2'), 'VizCompositorTh');
  assert.equal(parseComm('4244 (Chrome_ChildIOT) S 1 2'), 'Chrome_ChildIOT');
  assert.equal(parseComm('4245 (a (b) c) S 1'), 'a (b) c');
  assert.equal(parseComm('garbage'), '');
});

test('per-thread CPU adds threads of one label, sorts largest first and drops the small ones', () => {
  const before = new Map([
    ['renderer/1/2', 100],
    ['renderer/1/3', 10],
    ['gpu/4/5', 0],
  ]);
  // Two "Compositor" threads of two renderers add up; a new thread counts from zero.
  const after = new Map([
    ['renderer/1/2', 150],
    ['renderer/1/3', 12],
    ['renderer/6/7', 30],
    ['gpu/4/5', 1],
  ]);
  const names: Record<string, string> = {
    'renderer/1/2': 'renderer Main',
    'renderer/1/3': 'renderer Compositor',
    'renderer/6/7': 'renderer Compositor',
    'gpu/4/5': 'gpu Viz',
  };
  const split = cpuByLabel(before, after, (k) => names[k] ?? k, 1, 100, 5);
  assert.deepEqual(split, [
    ['renderer Main', 50],
    ['renderer Compositor', 32],
  ]);
});

test('nodeThreadGroup: the main thread by tid, wrtc by its thread names, the rest (V8, libuv, libvips) apart', () => {
  assert.equal(nodeThreadGroup(100, 100, 'node'), 'main');
  assert.equal(nodeThreadGroup(100, 101, 'node'), 'other');
  assert.equal(nodeThreadGroup(100, 102, 'libvips'), 'other');
  for (const comm of ['PeerConnectionF', 'TestAudioDevice', 'rtp_send_contro', 'EncoderQueue', 'TaskQueuePacedS'])
    assert.equal(nodeThreadGroup(100, 103, comm), 'wrtc', comm);
});
