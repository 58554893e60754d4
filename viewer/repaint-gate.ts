// When a status display (the status line, the replica bar) is worth rewriting.
// What it shows is split in two: what changes its meaning (connection state,
// which replica is live, a stream failing) is shown at once; numbers that merely
// count on while typing (acked and shown seq, latency, lag, score) at most once per
// `intervalMs`. Every rewrite costs the tab a style pass, layout, paint and
// compositor frame; at 10 keys/s the counters alone asked for one 4 times a second.
// Pure: the caller passes the time and polls (the last counters show on a later poll).

export class RepaintGate {
  #structure: string | null = null;
  #counters: string | null = null;
  #paintedAt = Number.NEGATIVE_INFINITY;

  constructor(readonly intervalMs: number) {}

  /** Whether to rewrite the display now for this content; true means the caller rewrites it (it counts as painted). */
  due(structure: string, counters: string, now: number): boolean {
    const structural = structure !== this.#structure;
    const counted = counters !== this.#counters;
    if (!structural && (!counted || now - this.#paintedAt < this.intervalMs)) return false;
    this.#structure = structure;
    this.#counters = counters;
    this.#paintedAt = now;
    return true;
  }
}
