// Whether a renderer node's home server is still there, judged by the node
// alone (render/link-watch.ts pings; this decides). A partitioned or stopped
// server keeps its socket open and socket.io notices only after its own ping
// timeout; this bound is shorter and counts any sign of life (a ping's answer,
// any request's answer, any notification). Only time the node itself was
// running counts: a node whose own event loop stalled (load, a long frame)
// could not have read the answers, so a stall adds at most two ticks of
// silence. Pure (the caller passes the time), unit-tested with a fake clock.

export interface LinkLivenessOptions {
  /** Nothing heard for this long (of our own running time): the server is silent. */
  silenceMs: number;
  /** How often tick() is called; a gap between ticks longer than two of these is our own stall. */
  intervalMs: number;
}

export type LinkVerdict = 'alive' | 'silent';

export class LinkLiveness {
  readonly #opts: LinkLivenessOptions;
  /** Silence accrued since the server was last heard from (ms, own running time only). */
  #silentMs = 0;
  #lastTick: number;

  constructor(opts: LinkLivenessOptions, now: number) {
    if (!(opts.intervalMs > 0) || !(opts.silenceMs > opts.intervalMs)) {
      throw new RangeError(`silenceMs (${opts.silenceMs}) must exceed intervalMs (${opts.intervalMs}) > 0`);
    }
    this.#opts = opts;
    this.#lastTick = now;
  }

  /** Something came from the server: it is alive now. */
  heard(now: number): void {
    this.#silentMs = 0;
    this.#lastTick = Math.max(this.#lastTick, now);
  }

  /** The periodic check: 'silent' once the server was silent for silenceMs of our own running time. */
  tick(now: number): LinkVerdict {
    const gap = Math.max(0, now - this.#lastTick);
    this.#lastTick = Math.max(this.#lastTick, now);
    this.#silentMs += Math.min(gap, 2 * this.#opts.intervalMs);
    return this.#silentMs >= this.#opts.silenceMs ? 'silent' : 'alive';
  }

  /** How long the server has been silent (own running time), for the log. */
  get silentMs(): number {
    return this.#silentMs;
  }
}
