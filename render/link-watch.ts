// The renderer node's watch on its current server link (issue 13 follow-up):
// a `node.ping` every intervalMs (one at a time), every sign of life fed to a
// LinkLiveness (render/link-liveness.ts), and onSilent once the server said
// nothing for the bound. A partitioned or stopped server keeps its socket
// open; this notices it well before socket.io's own ping timeout. What moving
// means is the caller's: the node leaves as if the server had died (its
// replicas held for the next server to adopt, render/renderer-node.ts).
import { getLogger } from '../protocol/logger.js';
import { LinkLiveness } from './link-liveness.js';

const log = getLogger('link-watch');

export interface LinkWatchOptions {
  intervalMs: number;
  silenceMs: number;
  /** One ping over the link; resolves on its answer (a rejection is no sign of life). */
  ping: () => Promise<unknown>;
  /** Called once, when the server is judged silent. */
  onSilent: (silentMs: number) => void;
  now?: () => number;
}

export class LinkWatch {
  readonly #opts: LinkWatchOptions;
  readonly #now: () => number;
  readonly #liveness: LinkLiveness;
  readonly #timer: NodeJS.Timeout;
  #pinging = false;
  #stopped = false;

  constructor(opts: LinkWatchOptions) {
    this.#opts = opts;
    this.#now = opts.now ?? Date.now;
    this.#liveness = new LinkLiveness({ silenceMs: opts.silenceMs, intervalMs: opts.intervalMs }, this.#now());
    this.#timer = setInterval(() => this.#tick(), opts.intervalMs);
    this.#timer.unref();
  }

  /** Something came from the server (an answer, a notification). */
  heard(): void {
    if (!this.#stopped) this.#liveness.heard(this.#now());
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  #tick(): void {
    if (this.#stopped) return;
    if (this.#liveness.tick(this.#now()) === 'silent') {
      const silentMs = this.#liveness.silentMs;
      this.stop();
      log.warn({ silentMs, boundMs: this.#opts.silenceMs }, 'server silent past the bound; leaving it');
      this.#opts.onSilent(silentMs);
      return;
    }
    // Traffic already proves the link: ping only after a quiet interval (typing keeps the node busy enough).
    if (this.#pinging || this.#liveness.silentMs < this.#opts.intervalMs) return;
    this.#pinging = true;
    this.#opts.ping().then(
      () => {
        this.#pinging = false;
        this.heard();
      },
      () => {
        this.#pinging = false;
      },
    );
  }
}
