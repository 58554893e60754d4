// Whether the input route's server can still be reached while an input waits
// for its ack (issue 13): a server that is slow to commit (etcd under load)
// answers a `ping` at once, one that is cut off answers nothing. So once the
// oldest input in flight has waited longer than acks usually take
// (ResendPolicy.pingAfterMs), the route's server is pinged, again every
// PING_EVERY_MS while inputs stay unacknowledged; a ping without an answer (and
// no ack either) for ResendPolicy.pingWaitMs makes the route move. Ping round
// trips carry no commit, so that bound is tight where the ack bound cannot be.
// Pure: the ping, clock and timers are passed in.
import type { ResendPolicy } from './resend-policy.js';
import { ViewerRequestError } from './request-error.js';

/** While inputs stay unacknowledged, the route's server is pinged again this long after its last answer. */
export const PING_EVERY_MS = 50;

export interface RouteLivenessDeps {
  /** Pings the route's server (resolves on its answer). */
  ping: () => Promise<unknown>;
  now: () => number;
  schedule: (fn: () => void, ms: number) => () => void;
  policy: ResendPolicy;
  /** Since when the oldest transmission in flight has waited (null: none in flight). */
  oldestInFlightSince: () => number | null;
  /** When a server last answered an input (ack or refusal). */
  lastAnswerAt: () => number;
  /** The route's server answered neither a ping nor an input in time. */
  onDead: (waitedMs: number) => void;
}

export class RouteLiveness {
  readonly #d: RouteLivenessDeps;
  /** Bumped by reset(): answers and timers of an earlier route are ignored. */
  #epoch = 0;
  #pingSentAt: number | null = null;
  #cancelTimer: (() => void) | null = null;
  #cancelDeadCheck: (() => void) | null = null;
  #pings = 0;
  #lastPingAnswerAt = Number.NEGATIVE_INFINITY;

  constructor(deps: RouteLivenessDeps) {
    this.#d = deps;
  }

  /** When the route's server last answered a ping (of the current route). */
  get lastPingAnswerAt(): number {
    return this.#lastPingAnswerAt;
  }

  /** Pings sent so far (stats and tests). */
  get pings(): number {
    return this.#pings;
  }

  /**
   * Inputs went out or were answered: arms the next check unless one is armed or a ping is out. With nothing
   * in flight any more (the ack came in time, as nearly every one does) an armed check is cancelled: it would
   * fire with nothing to do, a main-thread wakeup per keystroke.
   */
  poke(): void {
    if (this.#pingSentAt !== null) return;
    const since = this.#d.oldestInFlightSince();
    if (since === null) {
      this.#cancelTimer?.();
      this.#cancelTimer = null;
      return;
    }
    if (this.#cancelTimer !== null) return;
    const wait = Math.max(0, since + this.#d.policy.pingAfterMs() - this.#d.now());
    this.#arm(wait);
  }

  /** The route moved, or the sender went offline or away: whatever is out is ignored. */
  reset(): void {
    this.#epoch++;
    this.#pingSentAt = null;
    this.#lastPingAnswerAt = Number.NEGATIVE_INFINITY;
    this.#cancelTimer?.();
    this.#cancelTimer = null;
    this.#cancelDeadCheck?.();
    this.#cancelDeadCheck = null;
  }

  #arm(ms: number): void {
    this.#cancelTimer = this.#d.schedule(() => {
      this.#cancelTimer = null;
      this.#check();
    }, ms);
  }

  #check(): void {
    const since = this.#d.oldestInFlightSince();
    if (since === null) return;
    const now = this.#d.now();
    const after = this.#d.policy.pingAfterMs();
    if (now - since < after) {
      this.#arm(since + after - now);
      return;
    }
    const epoch = this.#epoch;
    this.#pingSentAt = now;
    this.#pings++;
    const wait = this.#d.policy.pingWaitMs();
    this.#cancelDeadCheck = this.#d.schedule(() => {
      this.#cancelDeadCheck = null;
      if (epoch !== this.#epoch || this.#pingSentAt !== now) return;
      this.#pingSentAt = null;
      // An input was answered meanwhile: it is alive after all.
      if (this.#d.lastAnswerAt() >= now) {
        this.poke();
        return;
      }
      this.#d.onDead(wait);
    }, wait);
    const answered = (): void => {
      if (epoch !== this.#epoch || this.#pingSentAt !== now) return;
      this.#cancelDeadCheck?.();
      this.#cancelDeadCheck = null;
      this.#pingSentAt = null;
      this.#lastPingAnswerAt = this.#d.now();
      this.#d.policy.notePing(this.#d.now() - now);
      if (this.#d.oldestInFlightSince() !== null) this.#arm(PING_EVERY_MS);
    };
    this.#d.ping().then(answered, (err: unknown) => {
      // A refusal (rate-limited, forbidden…) is an answer; no answer in time is left to the dead check.
      if (err instanceof ViewerRequestError && err.code !== 'unavailable') answered();
    });
  }
}
