// The stale-stream bound: the shared floor on a responsive box, widened by the
// delays actually seen on the shown stream, capped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STALE_MIN_SAMPLES,
  STALE_STREAM_MAX_MS,
  STALE_STREAM_MS,
  STALE_TAIL_FACTOR,
  STALE_TAIL_SAMPLES,
} from '../../protocol/freshness.js';
import { HeadTracker } from '../../viewer/head-tracker.js';
import { DEFAULT_HEALTH_THRESHOLDS, isStale } from '../../viewer/health-score.js';
import { StaleBound } from '../../viewer/stale-bound.js';

test('a responsive stream keeps the floor; a loaded one widens it, within the cap, and it narrows again', () => {
  const b = new StaleBound();
  assert.equal(b.ms, STALE_STREAM_MAX_MS, 'nothing seen yet: the box is unknown');
  for (let i = 0; i < STALE_MIN_SAMPLES - 1; i++) b.note(40);
  assert.equal(b.ms, STALE_STREAM_MAX_MS);
  for (let i = 0; i < 20; i++) b.note(40 + i);
  assert.equal(b.ms, STALE_STREAM_MS);
  b.note(400);
  assert.equal(b.ms, STALE_TAIL_FACTOR * 400);
  b.note(5000);
  assert.equal(b.ms, STALE_STREAM_MAX_MS);
  b.note(Number.NaN);
  b.note(-5);
  for (let i = 0; i < STALE_TAIL_SAMPLES; i++) b.note(50);
  assert.equal(b.ms, STALE_STREAM_MS, 'old outliers age out');
});

test('fake clock: a box that shows every input 300-450 ms late never trips the widened rule; a hang still does', () => {
  const heads = new HeadTracker();
  const bound = new StaleBound();
  let shown = 0;
  let stale = 0;
  const delay = (seq: number) => 300 + ((seq * 37) % 150); // a loaded box: every input late, by varying amounts
  for (let t = 0; t <= 20_000; t += 10) {
    if (t % 110 === 0) heads.note(t / 110, t);
    const hung = t > 15_000;
    while (!hung && shown + 1 <= heads.head && (shown + 1) * 110 + delay(shown + 1) <= t) {
      shown++;
      bound.note(delay(shown));
    }
    const o = { now: t, active: true, activeSince: -10_000, behindForMs: heads.behindForMs(shown, t) };
    if (isStale(o, { ...DEFAULT_HEALTH_THRESHOLDS, staleInputMs: bound.ms })) {
      assert.ok(hung, `a false switch at t=${t} (bound ${bound.ms} ms)`);
      stale++;
    }
  }
  assert.ok(stale > 0, 'the hang is caught');
});
