// The delays recently seen on the shown stream (send → shown), which widen
// the stale-stream bounds on a loaded box (protocol/freshness.ts). Pure:
// delays are passed in.
import { framesStoppedAfterMs, STALE_MIN_SAMPLES, STALE_TAIL_SAMPLES } from '../protocol/freshness.js';

export class StaleBound {
  readonly #delays: number[] = [];

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
