// The viewer's REST calls (export, thumbnails, import) against a live server
// of this cluster, not only the page's own: the page's origin first, then the
// other servers the viewer knows (server-list.ts, shared with the socket
// links, so a server that failed is skipped with the same bounded backoff).
// A request that may be sent twice (every GET; an import carrying its import
// id: the server completes the first instead of creating a second) goes to
// the next server after a network error or a 5xx answer; one that may not is
// sent once. When every server fails the
// caller gets a ClusterRestError, never a bare TypeError. Alone (single-server
// mode) the list holds the page's own server only: the same code path.
import type { ServerList } from './server-list.js';
import { debugLog } from './debug-log.js';

const log = debugLog('rest');

export type ClusterRestErrorCode =
  /** No server answered (connection refused, reset, DNS, CORS refused: fetch gave no response). */
  | 'unreachable'
  /** Servers answered, each with a 5xx (the last one's status and message are kept). */
  | 'server-error';

export class ClusterRestError extends Error {
  override readonly name = 'ClusterRestError';
  constructor(
    readonly code: ClusterRestErrorCode,
    message: string,
    /** The last answer's HTTP status ('server-error'), else null. */
    readonly status: number | null,
    /** The servers tried, in order. */
    readonly tried: readonly string[],
  ) {
    super(message);
  }
}

export interface RestRequest {
  /** Path and query below the server's origin ("/api/…"). */
  path: string;
  method?: 'GET' | 'POST';
  headers?: Record<string, string>;
  body?: Blob | string;
  /**
   * Safe to send to another server after it may have reached one (GETs, an
   * import with its import id). False: sent to one server only, since fetch
   * cannot tell whether a request that failed had arrived.
   */
  idempotent: boolean;
}

export interface ClusterRestOptions {
  servers: ServerList;
  token: () => string | null;
  fetch?: typeof fetch;
  now?: () => number;
}

/** The server's error message from a JSON error body, or the status line. */
export async function errorMessageOf(res: Response): Promise<string> {
  try {
    const body = (await res.clone().json()) as { error?: { message?: unknown } };
    if (typeof body.error?.message === 'string') return body.error.message;
  } catch {
    // not JSON
  }
  return `${res.status} ${res.statusText}`.trim();
}

export class ClusterRest {
  readonly #servers: ServerList;
  readonly #token: () => string | null;
  readonly #fetch: typeof fetch;
  readonly #now: () => number;

  constructor(opts: ClusterRestOptions) {
    this.#servers = opts.servers;
    this.#token = opts.token;
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.#now = opts.now ?? (() => performance.now());
  }

  /** Where a request goes, in order: the servers not in backoff (the page's own first); all of them if none is. */
  order(): string[] {
    const due = this.#servers.due(this.#now());
    return due.length > 0 ? due : this.#servers.urls();
  }

  /**
   * The first answer that is not a 5xx (2xx, 304, 4xx: the caller reads it),
   * trying the servers in order(). Throws ClusterRestError when none gives one.
   */
  async request(req: RestRequest): Promise<Response> {
    const token = this.#token();
    const headers = { ...req.headers, ...(token ? { Authorization: `Bearer ${token}` } : {}) };
    const tried: string[] = [];
    let lastAnswer: { status: number; message: string } | null = null;
    for (const url of this.order()) {
      tried.push(url);
      let res: Response;
      try {
        res = await this.#fetch(`${url}${req.path}`, {
          method: req.method ?? 'GET',
          headers,
          cache: 'no-store',
          ...(req.body === undefined ? {} : { body: req.body }),
        });
      } catch (err) {
        log('unreachable', url, req.path, err);
        this.#servers.noteFailure(url, this.#now());
        if (!req.idempotent) break;
        continue;
      }
      if (res.status < 500) {
        this.#servers.noteSuccess(url);
        return res;
      }
      // It answered (it is up), but could not serve this now: another may (e.g. one with the replicas).
      lastAnswer = { status: res.status, message: await errorMessageOf(res) };
      log('server error', url, req.path, res.status);
      if (!req.idempotent) break;
    }
    if (lastAnswer) throw new ClusterRestError('server-error', lastAnswer.message, lastAnswer.status, tried);
    throw new ClusterRestError(
      'unreachable',
      `no server of the cluster could be reached (${tried.join(', ')})`,
      null,
      tried,
    );
  }
}
