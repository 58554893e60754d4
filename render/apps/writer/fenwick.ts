// A Fenwick (binary indexed) tree of non-negative integers: prefix sums, point
// updates and "which slot holds the running total t" in O(log n). The writer's
// text index keeps paragraph lengths and line counts in these, so finding a
// line or an offset in a long document costs the same as in a short one.

export class Fenwick {
  readonly #tree: Float64Array;
  readonly size: number;

  constructor(values: ArrayLike<number>) {
    this.size = values.length;
    const tree = new Float64Array(this.size + 1);
    // Linear build: each node adds itself into its parent once.
    for (let i = 1; i <= this.size; i++) {
      tree[i] = (tree[i] ?? 0) + (values[i - 1] ?? 0);
      const parent = i + (i & -i);
      if (parent <= this.size) tree[parent] = (tree[parent] ?? 0) + (tree[i] ?? 0);
    }
    this.#tree = tree;
  }

  /** Adds `delta` to slot `index`. */
  add(index: number, delta: number): void {
    for (let i = index + 1; i <= this.size; i += i & -i) this.#tree[i] = (this.#tree[i] ?? 0) + delta;
  }

  /** Sum of slots [0, count). */
  prefix(count: number): number {
    let s = 0;
    for (let i = Math.min(count, this.size); i > 0; i -= i & -i) s += this.#tree[i] ?? 0;
    return s;
  }

  total(): number {
    return this.prefix(this.size);
  }

  /**
   * The largest slot index k with prefix(k) <= target (0 when target is below the first slot's value),
   * clamped to size - 1: the slot a running total `target` falls in.
   */
  slotAt(target: number): number {
    let pos = 0;
    let rest = target;
    let step = 1;
    while (step * 2 <= this.size) step *= 2;
    for (; step > 0; step >>= 1) {
      const next = pos + step;
      const v = this.#tree[next] ?? 0;
      if (next <= this.size && v <= rest) {
        pos = next;
        rest -= v;
      }
    }
    return Math.min(pos, this.size - 1);
  }
}
