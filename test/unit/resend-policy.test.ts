// The viewer's one resend policy (viewer/resend-policy.ts): the adaptive
// no-ack wait from the measured ack round trips, its doubling per route move,
// the out-of-order and refused back-offs, and what an ack resets.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { backoffMs, ResendPolicy } from '../../viewer/resend-policy.js';
import {
  INPUT_RESEND_AFTER_MS,
  INPUT_RESEND_MAX_MS,
  INPUT_RESEND_MIN_MS,
  INPUT_RESEND_MIN_SAMPLES,
  INPUT_RESEND_RTT_FACTOR,
  INPUT_RESEND_RTT_SAMPLES,
} from '../../protocol/server-routing.js';

const acks = (p: ResendPolicy, rtts: number[]): void => rtts.forEach((r) => p.noteAck(r));

describe('backoffMs', () => {
  it('doubles from the second step, capped; step 0 is the first wait', () => {
    const shape = { firstMs: 0, secondMs: 50, maxMs: 300 };
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5].map((s) => backoffMs(shape, s)),
      [0, 50, 100, 200, 300, 300],
    );
    assert.deepEqual(
      [0, 1, 2, 3].map((s) => backoffMs({ firstMs: 100, maxMs: 1000 }, s)),
      [100, 200, 400, 800],
    );
    assert.equal(backoffMs({ firstMs: 100, maxMs: 1000 }, 10_000), 1000, 'huge steps do not overflow');
  });
});

describe('ResendPolicy no-ack wait', () => {
  it('is INPUT_RESEND_AFTER_MS until enough acks were seen', () => {
    const p = new ResendPolicy();
    assert.equal(p.ackWaitMs(), INPUT_RESEND_AFTER_MS);
    acks(
      p,
      Array.from({ length: INPUT_RESEND_MIN_SAMPLES - 1 }, () => 20),
    );
    assert.equal(p.ackWaitMs(), INPUT_RESEND_AFTER_MS);
    p.noteAck(20);
    assert.equal(p.ackWaitMs(), INPUT_RESEND_MIN_MS, 'fast acks: the floor');
  });

  it('follows the p99 of the recent round trips, times the factor', () => {
    const p = new ResendPolicy();
    acks(
      p,
      Array.from({ length: 20 }, () => 60),
    );
    assert.equal(p.ackWaitMs(), Math.max(INPUT_RESEND_MIN_MS, INPUT_RESEND_RTT_FACTOR * 60));
    // One slow ack in the window is the tail: the wait covers it.
    p.noteAck(150);
    assert.equal(p.ackWaitMs(), INPUT_RESEND_RTT_FACTOR * 150);
    // It leaves the window after INPUT_RESEND_RTT_SAMPLES newer acks.
    acks(
      p,
      Array.from({ length: INPUT_RESEND_RTT_SAMPLES }, () => 40),
    );
    assert.equal(p.ackWaitMs(), Math.max(INPUT_RESEND_MIN_MS, INPUT_RESEND_RTT_FACTOR * 40));
    assert.equal(p.samples, INPUT_RESEND_RTT_SAMPLES);
  });

  it('a slow but alive server widens the wait with its acks, up to the cap', () => {
    const p = new ResendPolicy();
    acks(
      p,
      Array.from({ length: 10 }, () => 500),
    );
    assert.equal(p.ackWaitMs(), Math.min(INPUT_RESEND_MAX_MS, INPUT_RESEND_RTT_FACTOR * 500));
    acks(
      p,
      Array.from({ length: 10 }, () => 5000),
    );
    assert.equal(p.ackWaitMs(), INPUT_RESEND_MAX_MS);
  });

  it('doubles per route move without an ack, and an ack resets it', () => {
    const p = new ResendPolicy();
    acks(
      p,
      Array.from({ length: 10 }, () => 50),
    );
    const base = p.ackWaitMs();
    assert.equal(base, Math.max(INPUT_RESEND_MIN_MS, INPUT_RESEND_RTT_FACTOR * 50));
    p.noteMove();
    assert.equal(p.ackWaitMs(), 2 * base);
    p.noteMove();
    p.noteMove();
    assert.equal(p.ackWaitMs(), Math.min(INPUT_RESEND_MAX_MS, 8 * base));
    for (let i = 0; i < 10; i++) p.noteMove();
    assert.equal(p.ackWaitMs(), INPUT_RESEND_MAX_MS);
    p.noteAck(50);
    assert.equal(p.ackWaitMs(), base);
  });

  it('ignores round trips that are not ones (NaN, negative) but still resets on them', () => {
    const p = new ResendPolicy();
    p.noteMove();
    p.noteAck(Number.NaN);
    p.noteAck(-5);
    assert.equal(p.samples, 0);
    assert.equal(p.ackWaitMs(), INPUT_RESEND_AFTER_MS);
  });

  it('a fixed wait (resendAfterMs) is not adapted', () => {
    const p = new ResendPolicy({ resendAfterMs: 20 });
    acks(
      p,
      Array.from({ length: 20 }, () => 900),
    );
    assert.equal(p.ackWaitMs(), 20);
    p.noteMove();
    assert.equal(p.ackWaitMs(), 40);
  });
});

describe('ResendPolicy refusals', () => {
  it('out of order: at once, then 50 ms doubling up to the cap, reset by an ack', () => {
    const p = new ResendPolicy();
    const delays = Array.from({ length: 8 }, () => p.nextConflictDelayMs());
    assert.deepEqual(delays, [0, 50, 100, 200, 400, 800, 1600, INPUT_RESEND_MAX_MS]);
    p.noteAck(30);
    assert.equal(p.nextConflictDelayMs(), 0);
  });

  it('unavailable / rate-limited: 250 × 2^attempts, up to 5 s', () => {
    const p = new ResendPolicy();
    assert.deepEqual(
      [1, 2, 3, 4, 5, 6, 50].map((a) => p.refusedRetryMs(a)),
      [500, 1000, 2000, 4000, 5000, 5000, 5000],
    );
  });
});
