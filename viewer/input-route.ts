// Which server carries this viewer's inputs: one at a time (so they reach a
// sequencer in order), the page's own while it is usable. When an input gets
// no ack in time through it, the route moves to another usable server and
// keeps away from the one that failed for a while. Pure: the caller passes the
// clock and says which servers are usable (joined).
import { INPUT_ROUTE_SUSPECT_MS } from '../protocol/server-routing.js';

export class InputRoute {
  /** Usable servers in preference order. */
  #usable: string[] = [];
  #current: string | null = null;
  /** Server → until when it is avoided after failing inputs. */
  readonly #suspectUntil = new Map<string, number>();
  readonly #suspectMs: number;

  constructor(opts: { suspectMs?: number } = {}) {
    this.#suspectMs = opts.suspectMs ?? INPUT_ROUTE_SUSPECT_MS;
  }

  /** The servers inputs may go through now, preferred first. The current one stays while it is in the list. */
  setUsable(urls: readonly string[], now: number): void {
    this.#usable = [...urls];
    if (this.#current !== null && !this.#usable.includes(this.#current)) this.#current = null;
    if (this.#current === null) this.#current = this.#pick(now, null);
  }

  /** Where inputs go now, or null when no server is usable. */
  get current(): string | null {
    return this.#current;
  }

  /**
   * Inputs through the current server went unacknowledged: move to another
   * usable server (one not suspect if there is one). Returns it, or null when
   * there is no other (the route then stays where it is).
   */
  switchAway(now: number): string | null {
    const from = this.#current;
    if (from !== null) this.#suspectUntil.set(from, now + this.#suspectMs);
    const next = this.#pick(now, from);
    if (next === null) return null;
    this.#current = next;
    return next;
  }

  #pick(now: number, except: string | null): string | null {
    const others = this.#usable.filter((u) => u !== except);
    return others.find((u) => (this.#suspectUntil.get(u) ?? Number.NEGATIVE_INFINITY) <= now) ?? others[0] ?? null;
  }
}
