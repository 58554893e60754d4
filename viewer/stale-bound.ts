// The delays recently seen on the shown stream (send → shown), which widen
// the stale-stream bounds on a loaded box (protocol/freshness.ts). Pure:
// delays are passed in.
import {
  framesStoppedAfterMs,
  STALE_MIN_SAMPLES,
  STALE_RESUME_GRACE_MS,
  STALE_TAIL_SAMPLES,
} from '../protocol/freshness.js';

/** One input the live stream newly shows (ms, one monotonic clock). */
export interface ShownInput {
  /** The viewer knew of it (sent it, or learnt the head). */
  knownAt: number;
  /** The first frame reflecting it was presented. */
  shownAt: number;
  /** The live stream was last resumed. */
  resumedAt: number;
}

export class StaleBound {
  readonly #delays: number[] = [];

  /**
   * Counts an input's delay unless it was known before the stream was resumed
   * (the head at join, inputs typed on the stream left) or shown in the resume
   * grace: those delays are the stream's catch-up, not its input-to-photon, and
   * one such sample would widen the bounds for the next STALE_TAIL_SAMPLES.
   */
  noteShown(s: ShownInput): void {
    if (s.knownAt < s.resumedAt || s.shownAt - s.resumedAt < STALE_RESUME_GRACE_MS) return;
    this.note(s.shownAt - s.knownAt);
  }

  /** One input's delay from send to shown on the live stream (ms). */
  note(delayMs: number): void {
    if (!Number.isFinite(delayMs) || delayMs < 0) return;
    this.#delays.push(delayMs);
    if (this.#delays.length > STALE_TAIL_SAMPLES) this.#delays.shift();
  }

  /** The longest of the recent delays; null until STALE_MIN_SAMPLES were seen (the box is unknown). */
  get worstMs(): number | null {
    if (this.#delays.length < STALE_MIN_SAMPLES) return null;
    return this.#delays.reduce((a, b) => Math.max(a, b), 0);
  }

  /** The frames-stopped bound right now. */
  get ms(): number {
    return framesStoppedAfterMs(this.worstMs);
  }
}
