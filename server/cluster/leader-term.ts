// The leader's own view of its term, pure (fake clock in tests). The etcd3
// client reports a lost lease only after twice its TTL, far too late: a
// leader that cannot renew must stop writing before etcd can expire its lease
// and elect another. etcd counts a lease's TTL from when it *received* the
// last keepalive, which is after we *sent* it, so the deadline here (last
// successful keepalive's send time + TTL − a safety margin for clock rate
// differences) always falls before etcd's.

export type TermVerdict =
  | { leader: true; revision: string; remainingMs: number }
  | { leader: false; reason: 'not-elected' | 'expired' | 'stepped-down' };

export interface LeaderTermOptions {
  /** The lease TTL in ms (etcd counts it in whole seconds). */
  ttlMs: number;
  /** Subtracted from the TTL: the term ends this much before etcd could expire the lease. */
  safetyMs: number;
  now: () => number;
}

export class LeaderTerm {
  readonly #ttlMs: number;
  readonly #safetyMs: number;
  readonly #now: () => number;
  #revision: string | null = null;
  #validUntil = 0;
  #steppedDown = false;

  constructor(options: LeaderTermOptions) {
    if (options.safetyMs < 0 || options.safetyMs >= options.ttlMs) {
      throw new RangeError(`safetyMs must be 0..ttlMs-1, got ${options.safetyMs} of ${options.ttlMs}`);
    }
    this.#ttlMs = options.ttlMs;
    this.#safetyMs = options.safetyMs;
    this.#now = options.now;
  }

  /**
   * Won the election: the leader key was created at `revision`, under a lease
   * whose last successful keepalive (or grant) was sent at `renewSentAt`.
   */
  begin(revision: string, renewSentAt: number): void {
    this.#revision = revision;
    this.#steppedDown = false;
    this.#validUntil = renewSentAt + this.#ttlMs - this.#safetyMs;
  }

  /** A keepalive sent at `sentAt` was answered with the lease alive: the term extends. */
  renewed(sentAt: number): void {
    if (this.#revision === null || this.#steppedDown) return;
    // Replies can arrive out of order: never move the deadline back.
    this.#validUntil = Math.max(this.#validUntil, sentAt + this.#ttlMs - this.#safetyMs);
  }

  /** Gives the term up (lost lease, refused fenced write, shutdown). */
  stepDown(): void {
    if (this.#revision !== null) this.#steppedDown = true;
  }

  /** When the term runs out on its own unless renewed (ms on this clock); null when not leading. */
  get deadline(): number | null {
    return this.#revision === null || this.#steppedDown ? null : this.#validUntil;
  }

  verdict(): TermVerdict {
    if (this.#revision === null) return { leader: false, reason: 'not-elected' };
    if (this.#steppedDown) return { leader: false, reason: 'stepped-down' };
    const remainingMs = this.#validUntil - this.#now();
    if (remainingMs <= 0) return { leader: false, reason: 'expired' };
    return { leader: true, revision: this.#revision, remainingMs };
  }
}

/**
 * The fencing decision for one write: it is sent to etcd only inside a live
 * term, and it counts only if etcd's compare on the leader key's revision held.
 */
export function fencedOutcome(
  before: TermVerdict,
  txnSucceeded: () => boolean,
): 'written' | 'refused-locally' | 'refused-by-etcd' {
  if (!before.leader) return 'refused-locally';
  return txnSucceeded() ? 'written' : 'refused-by-etcd';
}
