// When the viewer's input sender sends an input again, in one place (issue 13):
// the three waits it had grown (the no-ack wait before another server takes
// the route, the out-of-order resend through the same server, and the retry
// after an unavailable or rate-limited refusal) are one doubling back-off each,
// built the same way, and reset by the same thing: an ack.
//
// The no-ack wait is adaptive: INPUT_RESEND_RTT_FACTOR × the p99 of the recent acks'
// round trips (send → ack of that transmission), never below
// INPUT_RESEND_MIN_MS, never above INPUT_RESEND_MAX_MS. A partitioned server
// is left after a few healthy round trips (~100-200 ms here) instead of a fixed
// 400 ms; a server that is slow but alive has slow acks, so its bound widens
// with them (and the sender never moves while any answer arrives). Until
// INPUT_RESEND_MIN_SAMPLES acks were seen the box is unknown: the bound is
// INPUT_RESEND_AFTER_MS. Under load the acks' tail is long (p99 200-640 ms
// at load 15 here, p50 30-100 ms), so where the route's server can be pinged
// (route-liveness.ts) the ack bound keeps INPUT_RESEND_AFTER_MS as its floor
// and a cut-off server is found by its unanswered ping instead: pinged once an
// input has waited ROUTE_PING_AFTER_FACTOR × the acks' p50 (50-150 ms), left
// when the ping has no answer for ROUTE_PING_WAIT_FACTOR × the pings' p99
// (100-300 ms; no commit in it).
// Pure: times are passed in.
import {
  ROUTE_PING_AFTER_FACTOR,
  ROUTE_PING_AFTER_MAX_MS,
  ROUTE_PING_AFTER_MIN_MS,
  ROUTE_PING_WAIT_MAX_MS,
  ROUTE_PING_WAIT_FACTOR,
  ROUTE_PING_WAIT_UNKNOWN_MS,
  INPUT_RESEND_AFTER_MS,
  INPUT_RESEND_MAX_MS,
  INPUT_RESEND_MIN_MS,
  INPUT_RESEND_MIN_SAMPLES,
  INPUT_RESEND_RTT_FACTOR,
  INPUT_RESEND_RTT_SAMPLES,
} from '../protocol/server-routing.js';
import { RollingWindow } from './rolling-window.js';

/** One doubling back-off: `firstMs` after the first step (0: at once), doubling per step after it, up to `maxMs`. */
export interface BackoffShape {
  /** The wait at step 0. */
  firstMs: number;
  /** The wait at step 1 (doubling from there); default 2 × firstMs. */
  secondMs?: number;
  maxMs: number;
}

/** The wait at `step` (0-based) of a doubling back-off. */
export function backoffMs(shape: BackoffShape, step: number): number {
  if (step <= 0) return Math.min(shape.maxMs, shape.firstMs);
  const second = shape.secondMs ?? shape.firstMs * 2;
  return Math.min(shape.maxMs, second * 2 ** Math.min(step - 1, 20));
}

export interface ResendPolicyOptions {
  /** Fixed no-ack wait (tests, or a caller that wants no adaptation); default adaptive. */
  resendAfterMs?: number;
  /** Cap of the no-ack wait; default INPUT_RESEND_MAX_MS. */
  resendMaxMs?: number;
  /** Floor of the adaptive no-ack wait; default INPUT_RESEND_MIN_MS (INPUT_RESEND_AFTER_MS when pings find dead routes). */
  resendMinMs?: number;
}

export class ResendPolicy {
  readonly #fixedBase: number | null;
  readonly #maxMs: number;
  /** Recent round trips (ms) of acknowledged transmissions, oldest first. */
  readonly #rtts = new RollingWindow(INPUT_RESEND_RTT_SAMPLES);
  /** Recent ping round trips (ms), oldest first. */
  readonly #pingRtts = new RollingWindow(INPUT_RESEND_RTT_SAMPLES);
  readonly #minMs: number;
  /** Route moves since the last ack: the no-ack wait doubles with each. */
  #moves = 0;
  /** Out-of-order refusals resent since the last ack. */
  #conflicts = 0;

  /** Out-of-order refusal: at once the first time, then 50 ms doubling (a hot loop is impossible). */
  static readonly CONFLICT: BackoffShape = { firstMs: 0, secondMs: 50, maxMs: INPUT_RESEND_MAX_MS };
  /** Unavailable / rate-limited / durability refusals: 500 ms after the first attempt, doubling, up to 5 s. */
  static readonly REFUSED: BackoffShape = { firstMs: 250, maxMs: 5000 };

  constructor(o: ResendPolicyOptions = {}) {
    this.#fixedBase = o.resendAfterMs ?? null;
    this.#maxMs = Math.max(o.resendMaxMs ?? INPUT_RESEND_MAX_MS, o.resendAfterMs ?? 0);
    this.#minMs = Math.min(this.#maxMs, o.resendMinMs ?? INPUT_RESEND_MIN_MS);
  }

  /** An ack arrived for a transmission sent `rttMs` ago (NaN/negative: not a round trip, only the reset). */
  noteAck(rttMs: number): void {
    this.#moves = 0;
    this.#conflicts = 0;
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.#rtts.push(rttMs);
  }

  /** The no-ack wait before the first move: adaptive (see the file comment) unless fixed. */
  get baseAckWaitMs(): number {
    if (this.#fixedBase !== null) return this.#fixedBase;
    if (this.#rtts.length < INPUT_RESEND_MIN_SAMPLES) return Math.min(this.#maxMs, INPUT_RESEND_AFTER_MS);
    const p99 = this.#rtts.percentile(0.99) ?? 0;
    return Math.round(Math.min(this.#maxMs, Math.max(this.#minMs, INPUT_RESEND_RTT_FACTOR * p99)));
  }

  /** The route's server is pinged once the oldest input in flight has waited this long. */
  pingAfterMs(): number {
    const p50 = this.#rtts.length < INPUT_RESEND_MIN_SAMPLES ? null : this.#rtts.percentile(0.5);
    if (p50 === null) return INPUT_RESEND_MIN_MS;
    return Math.round(
      Math.min(ROUTE_PING_AFTER_MAX_MS, Math.max(ROUTE_PING_AFTER_MIN_MS, ROUTE_PING_AFTER_FACTOR * p50)),
    );
  }

  /** A ping without an answer this long (and no ack meanwhile) moves the route; doubles per move like the ack wait. */
  pingWaitMs(): number {
    const p99 = this.#pingRtts.length < INPUT_RESEND_MIN_SAMPLES ? null : this.#pingRtts.percentile(0.99);
    const base =
      p99 === null
        ? ROUTE_PING_WAIT_UNKNOWN_MS
        : Math.min(ROUTE_PING_WAIT_MAX_MS, Math.max(INPUT_RESEND_MIN_MS, ROUTE_PING_WAIT_FACTOR * p99));
    return backoffMs({ firstMs: Math.round(base), maxMs: this.#maxMs }, this.#moves);
  }

  /** A ping of the route's server was answered `rttMs` after it was sent. */
  notePing(rttMs: number): void {
    if (!Number.isFinite(rttMs) || rttMs < 0) return;
    this.#pingRtts.push(rttMs);
  }

  /** The p-th percentile (0..1) of the recent ping round trips, null before any. */
  pingPercentile(p: number): number | null {
    return this.#pingRtts.percentile(p);
  }

  /** The no-ack wait now: the base, doubled per route move since the last ack, capped. */
  ackWaitMs(): number {
    return backoffMs({ firstMs: this.baseAckWaitMs, maxMs: this.#maxMs }, this.#moves);
  }

  /** The route moved for lack of an ack. */
  noteMove(): void {
    this.#moves++;
  }

  /** The delay of the resend an out-of-order refusal asks for; each call without an ack since backs off further. */
  nextConflictDelayMs(): number {
    return backoffMs(ResendPolicy.CONFLICT, this.#conflicts++);
  }

  /** The retry after a retryable refusal of an input on its `attempts`-th transmission (1-based). */
  refusedRetryMs(attempts: number): number {
    return backoffMs(ResendPolicy.REFUSED, Math.min(attempts, 5));
  }

  /** Recent round trips seen (for stats and tests). */
  get samples(): number {
    return this.#rtts.length;
  }

  /** The p-th percentile (0..1) of the recent round trips, null before any. */
  rttPercentile(p: number): number | null {
    return this.#rtts.percentile(p);
  }
}
