// Which server a renderer node connects to next: the URLs it was given
// (`--server A,B`) and those it learned from GET /api/servers, tried in turn.
// A URL that just failed is skipped until its backoff (doubling per
// consecutive failure, bounded) runs out, so dead entries cost nothing while a
// live one exists; when all are dead, the one due first is retried. Pure (the
// caller passes the time), unit-tested with a fake clock.
import { ServersResponseSchema } from '../protocol/cluster.js';
import { getLogger } from '../protocol/logger.js';
import { normalizeServerUrl } from './cli-options.js';

const log = getLogger('server-rotation');

/** Learned URLs kept at most (a hostile or broken server must not grow the list without bound). */
export const MAX_LEARNED_SERVERS = 32;

export interface ServerRotationOptions {
  /** The operator's list: always kept, tried first. */
  configured: readonly string[];
  /** Backoff after a URL's first failure; doubled per further consecutive failure. */
  baseDelayMs: number;
  maxDelayMs: number;
}

interface Attempts {
  failures: number;
  retryAt: number;
}

export class ServerRotation {
  readonly #opts: ServerRotationOptions;
  readonly #configured: string[];
  #learned: string[] = [];
  readonly #attempts = new Map<string, Attempts>();
  /** The URL handed out last: the next pick starts after it. */
  #last: string | undefined;
  /** The next pick, once (a confirmed move home): unless it is backing off. */
  #preferred: string | undefined;

  constructor(opts: ServerRotationOptions) {
    if (opts.configured.length === 0) throw new Error('at least one server URL is required');
    this.#opts = opts;
    this.#configured = [...new Set(opts.configured)];
  }

  /** Configured URLs first, then learned ones not among them. */
  get urls(): string[] {
    return [...this.#configured, ...this.#learned.filter((u) => !this.#configured.includes(u))];
  }

  /** Replaces the learned URLs (the cluster's current list); configured ones stay whatever it says. */
  learn(urls: readonly string[]): void {
    this.#learned = [...new Set(urls)].slice(0, MAX_LEARNED_SERVERS);
    const known = new Set(this.urls);
    for (const u of this.#attempts.keys()) if (!known.has(u)) this.#attempts.delete(u);
  }

  /** True when `url` (normalized) is in the list: a node moves only to a server it already knows. */
  knows(url: string): boolean {
    return this.urls.includes(url);
  }

  /** The next pick is `url` (one of the list), once, unless it is backing off then. */
  prefer(url: string): void {
    if (!this.knows(url)) throw new Error(`${url} is not in the server list`);
    this.#preferred = url;
  }

  /** The URL to connect to next, and how long to wait first. */
  next(now: number): { url: string; delayMs: number } {
    const urls = this.urls;
    const preferred = this.#preferred;
    this.#preferred = undefined;
    if (preferred !== undefined && urls.includes(preferred) && (this.#attempts.get(preferred)?.retryAt ?? 0) <= now) {
      this.#last = preferred;
      return { url: preferred, delayMs: 0 };
    }
    const start = this.#last === undefined ? 0 : (urls.indexOf(this.#last) + 1) % urls.length;
    let soonest: { url: string; retryAt: number } | undefined;
    for (let i = 0; i < urls.length; i++) {
      const url = urls[(start + i) % urls.length] as string;
      const retryAt = this.#attempts.get(url)?.retryAt ?? 0;
      if (retryAt <= now) {
        this.#last = url;
        return { url, delayMs: 0 };
      }
      if (!soonest || retryAt < soonest.retryAt) soonest = { url, retryAt };
    }
    // Every URL is backing off: wait for the first that is due (urls is never empty).
    const pick = soonest as { url: string; retryAt: number };
    this.#last = pick.url;
    return { url: pick.url, delayMs: pick.retryAt - now };
  }

  /** A connection to `url` failed or was lost: skip it for a while. */
  failed(url: string, now: number): void {
    const failures = (this.#attempts.get(url)?.failures ?? 0) + 1;
    const delay = Math.min(this.#opts.maxDelayMs, this.#opts.baseDelayMs * 2 ** Math.min(20, failures - 1));
    this.#attempts.set(url, { failures, retryAt: now + delay });
  }

  /** The node registered at `url`: its backoff starts over. */
  succeeded(url: string): void {
    this.#attempts.delete(url);
  }
}

/**
 * The server URLs in a GET /api/servers answer (normalized origins), or null
 * when the answer is not one: it comes from a server, which is trusted no more than a socket.
 */
export function parseServerList(raw: unknown): string[] | null {
  const parsed = ServersResponseSchema.safeParse(raw);
  if (!parsed.success) {
    log.warn({ issues: parsed.error.issues.slice(0, 3).map((i) => i.message) }, 'malformed server list ignored');
    return null;
  }
  const urls: string[] = [];
  for (const s of parsed.data.servers.slice(0, MAX_LEARNED_SERVERS)) {
    try {
      urls.push(normalizeServerUrl(s.url));
    } catch {
      // The schema admits only http(s) URLs; anything else is skipped, not fatal.
    }
  }
  return urls;
}
