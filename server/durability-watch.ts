// Whether durable writes are working right now, from the sequencer's own
// flushes: the moment one fails the server is not healthy (inputs are being
// refused), until a flush succeeds again. /healthz and /metrics read it.
import type { Sequencer } from './sequencer.js';

export interface DurabilityState {
  ok: boolean;
  /** ms since the epoch of the first failed flush of the current failure run. */
  failingSince: number | null;
  lastError: string | null;
}

export class DurabilityWatch {
  readonly #now: () => number;
  #failingSince: number | null = null;
  #lastError: string | null = null;
  readonly #offs: (() => void)[] = [];

  constructor(sequencer: Sequencer, now: () => number = Date.now) {
    this.#now = now;
    const onFailed = (err: Error): void => {
      this.#failingSince ??= this.#now();
      const cause = (err as { cause?: unknown }).cause;
      this.#lastError = cause instanceof Error ? cause.message : err.message;
    };
    const onFlushed = (): void => {
      this.#failingSince = null;
      this.#lastError = null;
    };
    sequencer.on('flushFailed', onFailed);
    sequencer.on('flushed', onFlushed);
    this.#offs.push(
      () => sequencer.off('flushFailed', onFailed),
      () => sequencer.off('flushed', onFlushed),
    );
  }

  state(): DurabilityState {
    return {
      ok: this.#failingSince === null,
      failingSince: this.#failingSince,
      lastError: this.#lastError,
    };
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
  }
}
