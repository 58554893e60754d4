// The frames-stopped bound: the shared floor on a responsive box, widened by the
// delays actually seen on the shown stream, capped (the rule itself: freshness.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  STALE_MIN_SAMPLES,
  STALE_RESUME_GRACE_MS,
  STALE_STREAM_MAX_MS,
  STALE_STREAM_MS,
  STALE_TAIL_FACTOR,
  STALE_TAIL_SAMPLES,
} from '../../protocol/freshness.js';
import { StaleBound } from '../../viewer/stale-bound.js';

test('a responsive stream keeps the floor; a loaded one widens it, within the cap, and it narrows again', () => {
  const b = new StaleBound();
  assert.equal(b.ms, STALE_STREAM_MAX_MS, 'nothing seen yet: the box is unknown');
  assert.equal(b.worstMs, null);
  for (let i = 0; i < STALE_MIN_SAMPLES - 1; i++) b.note(40);
  assert.equal(b.ms, STALE_STREAM_MAX_MS);
  for (let i = 0; i < 20; i++) b.note(40 + i);
  assert.equal(b.ms, STALE_STREAM_MS);
  b.note(400);
  assert.equal(b.worstMs, 400);
  assert.equal(b.ms, STALE_TAIL_FACTOR * 400);
  b.note(5000);
  assert.equal(b.ms, STALE_STREAM_MAX_MS);
  b.note(Number.NaN);
  b.note(-5);
  for (let i = 0; i < STALE_TAIL_SAMPLES; i++) b.note(50);
  assert.equal(b.ms, STALE_STREAM_MS, 'old outliers age out');
});

test("a resumed stream's catch-up is not its delay: inputs known before the resume, or shown in its grace, do not count", () => {
  const b = new StaleBound();
  const resumedAt = 10_000;
  const settled = resumedAt + STALE_RESUME_GRACE_MS;
  for (let i = 0; i < STALE_MIN_SAMPLES; i++) {
    const knownAt = settled + 100 * i;
    b.noteShown({ knownAt, shownAt: knownAt + 40, resumedAt });
  }
  assert.equal(b.worstMs, 40);
  // The head learnt at join (before the resume), shown once the stream caught up: 1.6 s "late".
  b.noteShown({ knownAt: resumedAt - 900, shownAt: settled + 5000, resumedAt });
  // Typed just after the resume, shown while the stream was still in its grace.
  b.noteShown({ knownAt: resumedAt + 10, shownAt: settled - 1, resumedAt });
  assert.equal(b.worstMs, 40, 'neither widened the bound');
  b.noteShown({ knownAt: settled + 6000, shownAt: settled + 6300, resumedAt });
  assert.equal(b.worstMs, 300, 'a late input typed on the settled stream counts');
});
