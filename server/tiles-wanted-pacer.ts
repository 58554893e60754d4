// How often a replica's node is asked for a whole tile frame (`replica.tiles`
// on: each viewer's tiles.start of its display channel). A whole frame costs the
// node a PNG of the whole app area (13-74 ms at 720p, docs/tile-display.md) and
// goes to every viewer of the channel, so asks are paced per display channel,
// not per viewer: the first at once, then at most one per interval, those in
// between coalesced into one at the interval's end (that whole frame serves
// every viewer that started meanwhile). Viewers' own buckets bound each
// connection; this bounds what many connections (one share link opened in many
// tabs) can make one node do. Pure logic with an injected clock and timers.

export interface TilesWantedPacerOptions {
  intervalMs: number;
  now?: () => number;
  schedule?: (fn: () => void, ms: number) => () => void;
}

interface Channel {
  lastAt: number;
  /** Cancels the coalesced ask scheduled for the end of the interval. */
  cancel: (() => void) | null;
}

function defaultSchedule(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

export class TilesWantedPacer {
  readonly #intervalMs: number;
  readonly #now: () => number;
  readonly #schedule: (fn: () => void, ms: number) => () => void;
  readonly #channels = new Map<string, Channel>();

  constructor(options: TilesWantedPacerOptions) {
    this.#intervalMs = options.intervalMs;
    this.#now = options.now ?? Date.now;
    this.#schedule = options.schedule ?? defaultSchedule;
  }

  /** A viewer wants a whole frame of `channelId`: `ask` runs now, or once at the end of the interval. */
  want(channelId: string, ask: () => void): void {
    const now = this.#now();
    const c = this.#channels.get(channelId);
    if (!c || now - c.lastAt >= this.#intervalMs) {
      if (c?.cancel) c.cancel();
      this.#channels.set(channelId, { lastAt: now, cancel: null });
      ask();
      return;
    }
    if (c.cancel) return; // already coalesced into the next ask
    c.cancel = this.#schedule(
      () => {
        c.cancel = null;
        c.lastAt = this.#now();
        ask();
      },
      c.lastAt + this.#intervalMs - now,
    );
  }

  /** The channel closed: nothing more is asked for it. */
  forget(channelId: string): void {
    this.#channels.get(channelId)?.cancel?.();
    this.#channels.delete(channelId);
  }

  /** Channels with pacing state (for tests and bounds). */
  get size(): number {
    return this.#channels.size;
  }
}
