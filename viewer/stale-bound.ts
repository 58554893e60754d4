// The stale-stream bound of this viewer right now: STALE_STREAM_MS on a
// responsive box, widened by the input-to-shown delays recently seen on the
// shown stream (protocol/freshness.ts). Pure: delays are passed in.
import {
  STALE_MIN_SAMPLES,
  STALE_STREAM_MAX_MS,
  STALE_STREAM_MS,
  STALE_TAIL_FACTOR,
  STALE_TAIL_SAMPLES,
} from '../protocol/freshness.js';

export class StaleBound {
  readonly #delays: number[] = [];

  /** One input's delay from send to shown on the live stream (ms). */
  note(delayMs: number): void {
    if (!Number.isFinite(delayMs) || delayMs < 0) return;
    this.#delays.push(delayMs);
    if (this.#delays.length > STALE_TAIL_SAMPLES) this.#delays.shift();
  }

  get ms(): number {
    if (this.#delays.length < STALE_MIN_SAMPLES) return STALE_STREAM_MAX_MS;
    const worst = this.#delays.reduce((a, b) => Math.max(a, b), 0);
    return Math.min(STALE_STREAM_MAX_MS, Math.max(STALE_STREAM_MS, STALE_TAIL_FACTOR * worst));
  }
}
