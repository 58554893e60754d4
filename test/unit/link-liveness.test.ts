// A node's judgement of its home server's link: silent only after the bound of
// its own running time with nothing heard; a slow answer, or the node's own
// stall, keeps the server.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LinkLiveness } from '../../render/link-liveness.js';
import { NODE_PING_INTERVAL_MS, NODE_SILENCE_MIN_MS, NODE_SILENCE_MS } from '../../protocol/node-liveness.js';

const OPTS = { silenceMs: 2000, intervalMs: 250 };

/** Ticks every intervalMs from `from` to `to` (inclusive), returning the first time the verdict was silent. */
function firstSilent(l: LinkLiveness, from: number, to: number, step = OPTS.intervalMs): number | null {
  for (let t = from; t <= to; t += step) if (l.tick(t) === 'silent') return t;
  return null;
}

test('a server never heard from again is silent once the bound of ticks passed, not before', () => {
  const l = new LinkLiveness(OPTS, 0);
  assert.equal(firstSilent(l, 250, 10_000), 2000);
  assert.equal(l.silentMs, 2000);
});

test('a server answering slowly but within the bound keeps its node', () => {
  const l = new LinkLiveness(OPTS, 0);
  // An answer every 1.9 s (a loaded server): never silent over a minute.
  for (let t = 250; t <= 60_000; t += 250) {
    if (t % 1900 < 250) l.heard(t);
    assert.equal(l.tick(t), 'alive', `at ${t}`);
  }
});

test('a pause shorter than the bound (a short SIGSTOP) keeps the server; a longer one does not', () => {
  const short = new LinkLiveness(OPTS, 0);
  assert.equal(firstSilent(short, 250, 1750), null);
  short.heard(1800); // it came back and its queued answers arrived
  assert.equal(firstSilent(short, 2000, 3750), null);
  const long = new LinkLiveness(OPTS, 0);
  assert.equal(firstSilent(long, 250, 2500), 2000);
});

test("the node's own stall counts for at most two ticks: a frozen node does not blame its server", () => {
  const l = new LinkLiveness(OPTS, 0);
  l.heard(0);
  // Our loop stalled 10 s: the first tick after it adds 500 ms, not 10 s.
  assert.equal(l.tick(10_000), 'alive');
  assert.equal(l.silentMs, 500);
  // The answers queued meanwhile are read right after: alive.
  l.heard(10_010);
  assert.equal(l.silentMs, 0);
  // Never heard from again: silent the full bound after that.
  assert.equal(firstSilent(l, 10_260, 20_000), 12_010);
});

test('a clock that goes backwards adds no silence, and a bound not above the interval is refused', () => {
  const l = new LinkLiveness(OPTS, 1000);
  assert.equal(l.tick(500), 'alive');
  assert.equal(l.silentMs, 0);
  assert.throws(() => new LinkLiveness({ silenceMs: 250, intervalMs: 250 }, 0), RangeError);
  assert.throws(() => new LinkLiveness({ silenceMs: 2000, intervalMs: 0 }, 0), RangeError);
});

test('the shared defaults leave room: the bound is several intervals and above its floor', () => {
  assert.ok(NODE_SILENCE_MS >= 4 * NODE_PING_INTERVAL_MS);
  assert.ok(NODE_SILENCE_MS >= NODE_SILENCE_MIN_MS);
});
