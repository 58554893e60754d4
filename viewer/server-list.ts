// The servers a viewer knows: the one its page came from plus those the
// cluster's registry lists (GET /api/servers). A server that failed is skipped
// for a doubling, bounded while (its "retry at"), so a list with dead entries
// costs a connection attempt now and then, not one per use. Servers are told
// apart by their registry id, not by URL: the page may have been loaded by
// another name than the one its server advertises (127.0.0.1 vs a LAN
// address or hostname), and that server is listed once, under the page's
// origin. Pure: the caller passes the clock.
import { SERVER_RETRY_MAX_MS, SERVER_RETRY_MIN_MS } from '../protocol/server-routing.js';

export interface ServerListOptions {
  minRetryMs?: number;
  maxRetryMs?: number;
}

interface Entry {
  failures: number;
  retryAt: number;
}

/** One registry entry as a server listed it: its id (null when not given) and advertised URL. */
export interface ListedServer {
  id: string | null;
  url: string;
}

/** The http(s) origin of `raw`, or null for anything else (a registry entry is another party's word). */
export function serverOrigin(raw: string): string | null {
  try {
    const u = new URL(raw);
    return u.protocol === 'http:' || u.protocol === 'https:' ? u.origin : null;
  } catch {
    return null;
  }
}

export class ServerList {
  readonly origin: string;
  readonly #entries = new Map<string, Entry>();
  /** The registry id of the page's own server, once it said (GET /api/servers' `self`). */
  #originId: string | null = null;
  readonly #minMs: number;
  readonly #maxMs: number;

  constructor(origin: string, opts: ServerListOptions = {}) {
    this.origin = serverOrigin(origin) ?? origin;
    this.#minMs = opts.minRetryMs ?? SERVER_RETRY_MIN_MS;
    this.#maxMs = opts.maxRetryMs ?? SERVER_RETRY_MAX_MS;
    this.#entries.set(this.origin, { failures: 0, retryAt: Number.NEGATIVE_INFINITY });
  }

  /**
   * The page's own server says which registry entry it is. Only its word is
   * taken (it served the page's code, so it is trusted already): another
   * server naming itself after a peer would make the viewer drop that peer.
   */
  setOriginId(id: string): void {
    this.#originId = id;
  }

  get originId(): string | null {
    return this.#originId;
  }

  /**
   * The registry's current list: new servers are added, servers no longer in
   * it are forgotten (the page's own server stays: it is where the page came
   * from, listed or not; its own entry, by id, is the page's origin whatever
   * URL it advertises). Returns the servers added and removed.
   */
  update(servers: readonly (string | ListedServer)[]): { added: string[]; removed: string[] } {
    const listed = new Set<string>();
    for (const s of servers) {
      const { id, url } = typeof s === 'string' ? { id: null, url: s } : s;
      const o = id !== null && id === this.#originId ? this.origin : serverOrigin(url);
      if (o !== null) listed.add(o);
    }
    const added: string[] = [];
    const removed: string[] = [];
    for (const o of listed) {
      if (this.#entries.has(o)) continue;
      this.#entries.set(o, { failures: 0, retryAt: Number.NEGATIVE_INFINITY });
      added.push(o);
    }
    for (const o of [...this.#entries.keys()]) {
      if (o === this.origin || listed.has(o)) continue;
      this.#entries.delete(o);
      removed.push(o);
    }
    return { added, removed };
  }

  /** Every known server, the page's own first. */
  urls(): string[] {
    return [...this.#entries.keys()];
  }

  /** The known servers not in backoff at `now`, the page's own first. */
  due(now: number): string[] {
    return [...this.#entries].filter(([, e]) => now >= e.retryAt).map(([o]) => o);
  }

  isDue(url: string, now: number): boolean {
    const e = this.#entries.get(url);
    return !!e && now >= e.retryAt;
  }

  /** `url` failed (unreachable, refused, no answer): skip it for min·2^(failures-1), at most max. */
  noteFailure(url: string, now: number): void {
    const e = this.#entries.get(url);
    if (!e) return;
    e.failures++;
    e.retryAt = now + Math.min(this.#maxMs, this.#minMs * 2 ** Math.min(e.failures - 1, 30));
  }

  /** `url` answered: it is live again, its backoff starts over. */
  noteSuccess(url: string): void {
    const e = this.#entries.get(url);
    if (!e) return;
    e.failures = 0;
    e.retryAt = Number.NEGATIVE_INFINITY;
  }

  failures(url: string): number {
    return this.#entries.get(url)?.failures ?? 0;
  }
}
