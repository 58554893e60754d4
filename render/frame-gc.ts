// A young-generation collection (scavenge) right after a frame went to the
// encoder, while the encoder thread works and before the next input arrives.
// Each full frame's read-back (getImageData) allocates a frame-sized buffer
// (3.7 MB at 720p) that dies at once; left to V8, those buffers pile up as
// external memory until they start a major collection, which then lands on
// some later keystroke's frame path (the slow tail of the latency bench), and
// every read-back writes into fresh, page-faulting memory. Scavenged per frame,
// the buffer is freed while it is still the allocator's newest chunk and the
// next read-back reuses it: fewer major collections and cheaper read-backs.
// Off (no collector) where the runtime will not expose one.
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { getLogger } from '../protocol/logger.js';

const log = getLogger('frame-gc');

/** Runs one young-generation collection now. */
export type Collector = () => void;

export interface FrameGcOptions {
  /** The collection to run (null: none, frameSent does nothing). */
  collect: Collector | null;
  /** Runs `fn` once the work queued now has run (setImmediate by default). */
  schedule?: (fn: () => void) => void;
}

/** V8's own gc() (the --expose-gc flag, set at run time when the process was not started with it), or null. */
export function exposedCollector(): Collector | null {
  try {
    let gc = (globalThis as { gc?: unknown }).gc;
    if (typeof gc !== 'function') {
      setFlagsFromString('--expose-gc');
      gc = runInNewContext('gc') as unknown;
    }
    if (typeof gc !== 'function') return null;
    const fn = gc as (opts: { type: 'minor' }) => void;
    return () => fn({ type: 'minor' });
  } catch (err) {
    log.warn({ err }, 'no collector exposed; frames are left to the runtime');
    return null;
  }
}

export class FrameGc {
  readonly #collect: Collector | null;
  readonly #schedule: (fn: () => void) => void;
  #pending = false;
  #collections = 0;

  constructor(opts: FrameGcOptions) {
    this.#collect = opts.collect;
    this.#schedule = opts.schedule ?? ((fn) => void setImmediate(fn));
  }

  /** A frame was handed to the encoder: one collection after the current work (frames sent meanwhile share it). */
  frameSent(): void {
    const collect = this.#collect;
    if (!collect || this.#pending) return;
    this.#pending = true;
    this.#schedule(() => {
      this.#pending = false;
      collect();
      this.#collections++;
    });
  }

  /** Collections run so far. */
  get collections(): number {
    return this.#collections;
  }

  get enabled(): boolean {
    return this.#collect !== null;
  }
}
