// A token bucket: `rate` per second, bursts up to `rate`, refilled continuously.
// One per socket (and one more for viewer inputs), so a flood from one client
// gets typed `rate-limited` errors while everyone else is served.
import { RateLimitedError } from './errors.js';

export class TokenBucket {
  readonly #rate: number;
  readonly #what: string;
  readonly #now: () => number;
  #tokens: number;
  #refilledAt: number;

  constructor(rate: number, what: string, now: () => number = Date.now) {
    this.#rate = rate;
    this.#what = what;
    this.#now = now;
    this.#tokens = rate;
    this.#refilledAt = now();
  }

  /** Takes one token or throws RateLimitedError. */
  take(): void {
    const now = this.#now();
    this.#tokens = Math.min(this.#rate, this.#tokens + ((now - this.#refilledAt) / 1000) * this.#rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) {
      throw new RateLimitedError(`more than ${this.#rate} ${this.#what} per second`, { rate: this.#rate });
    }
    this.#tokens -= 1;
  }
}
