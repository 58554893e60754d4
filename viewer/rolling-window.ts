// The last `capacity` samples, kept in arrival order and sorted at once, so a
// percentile is a lookup: the input sender asks for the acks' p99 on every
// transmission, and sorting the window each time was a visible part of a
// keystroke's script time. Pure.

/** Index of the first element of sorted `xs` not below `x`. */
function lowerBound(xs: readonly number[], x: number): number {
  let lo = 0;
  let hi = xs.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((xs[mid] ?? 0) < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

export class RollingWindow {
  readonly #capacity: number;
  /** Arrival order, oldest first. */
  readonly #fifo: number[] = [];
  readonly #sorted: number[] = [];

  constructor(capacity: number) {
    if (!Number.isSafeInteger(capacity) || capacity < 1) throw new RangeError(`capacity ${capacity} is not ≥ 1`);
    this.#capacity = capacity;
  }

  /** Adds a sample (finite numbers only: the caller filters), dropping the oldest beyond capacity. */
  push(x: number): void {
    this.#fifo.push(x);
    this.#sorted.splice(lowerBound(this.#sorted, x), 0, x);
    if (this.#fifo.length <= this.#capacity) return;
    const old = this.#fifo.shift() ?? 0;
    this.#sorted.splice(lowerBound(this.#sorted, old), 1);
  }

  get length(): number {
    return this.#fifo.length;
  }

  /** The p-th percentile (0..1, nearest rank); null when empty. */
  percentile(p: number): number | null {
    const n = this.#sorted.length;
    if (n === 0) return null;
    return this.#sorted[Math.min(n - 1, Math.max(0, Math.ceil(p * n) - 1))] ?? null;
  }
}
