// Which producers have at least one resumed consumer, i.e. whose stream some
// viewer is watching. Warm standbys are consumed paused, so their renderers
// can stop rendering and encoding until a viewer resumes them. Pure
// bookkeeping fed by the SFU's consumer events; listeners hear every change.

type Listener = (watched: boolean) => void;

export class StreamWatchers {
  /** consumerId → its producer and whether it is resumed. */
  readonly #consumers = new Map<string, { producerId: string; resumed: boolean }>();
  /** producerId → number of resumed consumers. */
  readonly #resumed = new Map<string, number>();
  readonly #listeners = new Map<string, Set<Listener>>();

  isWatched(producerId: string): boolean {
    return (this.#resumed.get(producerId) ?? 0) > 0;
  }

  /** Calls `listener` on every change of `producerId`'s watched state; returns the unsubscribe. */
  watch(producerId: string, listener: Listener): () => void {
    let set = this.#listeners.get(producerId);
    if (!set) this.#listeners.set(producerId, (set = new Set()));
    set.add(listener);
    return () => {
      set.delete(listener);
      if (set.size === 0 && this.#listeners.get(producerId) === set) this.#listeners.delete(producerId);
    };
  }

  consumerOpened(consumerId: string, producerId: string, resumed: boolean): void {
    if (this.#consumers.has(consumerId)) return;
    this.#consumers.set(consumerId, { producerId, resumed: false });
    if (resumed) this.consumerResumed(consumerId);
  }

  consumerResumed(consumerId: string): void {
    const c = this.#consumers.get(consumerId);
    if (!c || c.resumed) return;
    c.resumed = true;
    this.#add(c.producerId, 1);
  }

  consumerPaused(consumerId: string): void {
    const c = this.#consumers.get(consumerId);
    if (!c?.resumed) return;
    c.resumed = false;
    this.#add(c.producerId, -1);
  }

  consumerClosed(consumerId: string): void {
    this.consumerPaused(consumerId);
    this.#consumers.delete(consumerId);
  }

  #add(producerId: string, delta: number): void {
    const before = this.#resumed.get(producerId) ?? 0;
    const after = before + delta;
    if (after > 0) this.#resumed.set(producerId, after);
    else this.#resumed.delete(producerId);
    if (before > 0 === after > 0) return;
    for (const listener of [...(this.#listeners.get(producerId) ?? [])]) listener(after > 0);
  }
}
