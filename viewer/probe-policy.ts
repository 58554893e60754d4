// Warm mode's probes (protocol/freshness.ts): while the shown stream is
// suspect, one paused standby is resumed so the stale rule has another stream
// to compare it with and a switch finds that stream already decoding. A probe
// is a real viewer of its replica while it lasts: the renderer draws and
// encodes every frame of it (a keyframe first), so on a loaded box, where the
// shown stream is suspect often and recovers by itself, probes were most of
// what a warm standby cost. This is when to start and end one. Pure: the time
// and what the viewer sees are passed in (unit-tested on a fake clock).
//
// - A probe ends once it has presented a frame since its resume (its stream is
//   deliverable: what a probe is for besides evidence) and the shown stream has
//   been fresh again for `lingerMs`, not a second later; a probe that never
//   presents one ends after `maxMs` and none starts for `cooldownMs`.
// - A probe that ends so (the shown stream recovered by itself, no switch) was
//   a false alarm: the next one waits until the suspicion has lasted `holdMs`,
//   doubled on every further false alarm up to `holdMaxMs`, and back to none
//   after `holdResetMs` without one, or once a probe was needed (a switch).
//   A hung stream stays suspect, so the hold delays its probe by at most
//   `holdMaxMs`; a hiccup is usually over before it.

export interface ProbeTimings {
  /** The shown stream fresh this long ends a probe that presented a frame. */
  lingerMs: number;
  /** A probe ends after this at the latest... */
  maxMs: number;
  /** ...and then no probe starts for this long. */
  cooldownMs: number;
  /** After a false alarm the next probe waits for this much suspicion, doubled per further one... */
  holdStepMs: number;
  /** ...up to this. */
  holdMaxMs: number;
  /** This long without a false alarm clears the hold. */
  holdResetMs: number;
}

export const DEFAULT_PROBE_TIMINGS: Readonly<ProbeTimings> = {
  lingerMs: 100,
  maxMs: 5000,
  cooldownMs: 2000,
  holdStepMs: 150,
  holdMaxMs: 400,
  holdResetMs: 10_000,
};

/** What the viewer sees at one stale check. */
export interface ProbeCheck {
  now: number;
  /** The shown stream's freshness verdict (protocol/freshness.ts). */
  shown: 'fresh' | 'suspect' | 'stale';
  /** The probe (if any) presented a frame since it was resumed. */
  probePresented: boolean;
}

export type ProbeDecision = 'start' | 'end' | null;

export interface ProbeCounts {
  suspicions: number;
  started: number;
  falseAlarms: number;
}

export type ProbeEnd = 'recovered' | 'expired';

export class ProbePolicy {
  readonly #t: ProbeTimings;
  #probe: { replicaId: string; since: number; freshSince: number | null } | null = null;
  #suspectSince: number | null = null;
  #cooldownUntil = Number.NEGATIVE_INFINITY;
  #holdMs = 0;
  #lastFalseAlarmAt = Number.NEGATIVE_INFINITY;
  #started = 0;
  #falseAlarms = 0;
  #suspicions = 0;
  /** The latest check's verdict and time (nextCheckAt). */
  #last: ProbeCheck | null = null;

  constructor(timings: Partial<ProbeTimings> = {}) {
    this.#t = { ...DEFAULT_PROBE_TIMINGS, ...timings };
  }

  /** The standby resumed as a probe now, null when none is. */
  get replicaId(): string | null {
    return this.#probe?.replicaId ?? null;
  }

  /** How long the next probe waits for the suspicion to last (0: none). */
  get holdMs(): number {
    return this.#holdMs;
  }

  /**
   * Suspicions of the shown stream while no probe ran (each a chance to probe), probes started, and how many
   * of those ended with the shown stream recovered by itself.
   */
  get counts(): ProbeCounts {
    return { suspicions: this.#suspicions, started: this.#started, falseAlarms: this.#falseAlarms };
  }

  /**
   * One stale check: 'start' (resume the best standby, then call started()),
   * 'end' (pause the probe: ended() was applied already), or nothing.
   */
  check(c: ProbeCheck): ProbeDecision {
    this.#last = c;
    if (c.now - this.#lastFalseAlarmAt >= this.#t.holdResetMs) this.#holdMs = 0;
    const p = this.#probe;
    if (p) {
      this.#suspectSince = null;
      if (c.shown === 'fresh') p.freshSince ??= c.now;
      else p.freshSince = null;
      if (c.now - p.since >= this.#t.maxMs) {
        this.#end(c.now, 'expired');
        return 'end';
      }
      if (c.probePresented && p.freshSince !== null && c.now - p.freshSince >= this.#t.lingerMs) {
        this.#end(c.now, 'recovered');
        return 'end';
      }
      return null;
    }
    if (c.shown !== 'suspect') {
      this.#suspectSince = null;
      return null;
    }
    if (this.#suspectSince === null) {
      this.#suspectSince = c.now;
      this.#suspicions++;
    }
    if (c.now < this.#cooldownUntil || c.now - this.#suspectSince < this.#holdMs) return null;
    return 'start';
  }

  /**
   * When check() could decide otherwise than at the latest check if the verdict and the probe's frames stay
   * as they were then: the probe's linger or expiry, the hold, its reset or the cooldown running out. Null:
   * not before one of those changes (the caller checks again on every frame, ack and verdict change), or a
   * start is due already and waits for the caller (a switch in progress, no standby to resume).
   */
  nextCheckAt(): number | null {
    const c = this.#last;
    if (!c) return null;
    const p = this.#probe;
    if (p) {
      const expires = p.since + this.#t.maxMs;
      const lingers = c.probePresented && p.freshSince !== null ? p.freshSince + this.#t.lingerMs : null;
      return lingers === null ? expires : Math.min(expires, lingers);
    }
    if (c.shown !== 'suspect' || this.#suspectSince === null) return null;
    const startAt = Math.max(this.#cooldownUntil, this.#suspectSince + this.#holdMs);
    if (startAt <= c.now) return null;
    // The hold is cleared holdResetMs after the last false alarm, which may let the probe start sooner.
    const holdResetAt = this.#holdMs > 0 ? this.#lastFalseAlarmAt + this.#t.holdResetMs : Number.POSITIVE_INFINITY;
    return holdResetAt > c.now ? Math.min(startAt, holdResetAt) : startAt;
  }

  /** The viewer resumed `replicaId` as the probe. */
  started(replicaId: string, now: number): void {
    this.#probe = { replicaId, since: now, freshSince: null };
    this.#suspectSince = null;
    this.#started++;
  }

  /** The probe became the shown stream (a switch): probing was needed, so no hold. */
  switchedTo(replicaId: string): void {
    if (this.#probe?.replicaId !== replicaId) return;
    this.#probe = null;
    this.#holdMs = 0;
  }

  /** The probe's stream is gone (closed, removed, or shown by other means); no verdict on it. */
  dropped(): void {
    this.#probe = null;
  }

  /** Everything forgotten (the media torn down). */
  reset(): void {
    this.#last = null;
    this.#probe = null;
    this.#suspectSince = null;
    this.#cooldownUntil = Number.NEGATIVE_INFINITY;
    this.#holdMs = 0;
    this.#lastFalseAlarmAt = Number.NEGATIVE_INFINITY;
  }

  #end(now: number, why: ProbeEnd): void {
    this.#probe = null;
    if (why === 'expired') {
      this.#cooldownUntil = now + this.#t.cooldownMs;
      return;
    }
    this.#falseAlarms++;
    this.#lastFalseAlarmAt = now;
    this.#holdMs = Math.min(this.#t.holdMaxMs, this.#holdMs === 0 ? this.#t.holdStepMs : 2 * this.#holdMs);
  }
}
