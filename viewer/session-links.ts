// The viewer's links to every live server of the cluster for one session
// (issue 13 point 5): the page's own server first, then every server the
// registry lists (GET /api/servers, refreshed; unreachable ones skipped with a
// bounded backoff, see server-list.ts). The session is joined on each; each
// reports the replicas it homes and the views are merged (replica-merge.ts).
// Inputs go through one server at a time (input-route.ts); other requests
// through any joined server. Alone (single-server mode, no /api/servers) this
// is one link, the same code path.
import type {
  JoinResult,
  ViewerNotification,
  ViewerRequest,
  ViewerResponses,
  InputAck,
} from '../protocol/signalling.js';
import { SERVER_LIST_REFRESH_MS } from '../protocol/server-routing.js';
import type { ConnectionState } from './session-client.js';
import { ViewerRequestError } from './request-error.js';
import { ServerLink } from './server-link.js';
import { ServerList, type ListedServer } from './server-list.js';
import { InputRoute } from './input-route.js';
import { ClusterRest } from './cluster-rest.js';
import { mergeSessions, viewerIdFor, type MergedSession } from './replica-merge.js';
import type { InputRequest } from './input-sender.js';
import { TypedEmitter } from './typed-emitter.js';
import { debugLog } from './debug-log.js';

const log = debugLog('links');

/** Joins still missing (a server that has not opened the session yet) are retried this often. */
const MAINTAIN_MS = 1000;

export interface SessionLinksEvents {
  /** The merged session changed (a join, an update from any server, a server gone). */
  session: MergedSession;
  /** A server (re-)joined. `resync`: no server was joined before, so the input sender resyncs from this one. */
  joined: { link: ServerLink; result: JoinResult; rejoin: boolean; resync: boolean };
  /** A server dropped while others stay joined. `carriedInputs`: the input route went through it. */
  linkOffline: { link: ServerLink; carriedInputs: boolean };
  /** No server is joined any more (in-flight requests are void until a re-join). */
  offline: null;
  /** Notifications other than session updates (those arrive merged as `session`). */
  notify: { link: ServerLink; notification: ViewerNotification };
  /** The page's own server could not re-join (e.g. the session is gone there). */
  rejoinFailed: { error: ViewerRequestError };
  /** A server's media connection failed. */
  mediaFailed: { link: ServerLink };
  state: { state: ConnectionState; detail: string | null };
}

export interface SessionLinksOptions {
  token: string | null;
  /** The page's origin (location.origin). */
  origin: string;
  fetch?: typeof fetch;
  now?: () => number;
  /** Called with every server list learnt (the servers' origins): main.ts remembers it (known-servers.ts). */
  onServers?: (urls: string[]) => void;
}

type RequestOf<T extends ViewerRequest['type']> = Extract<ViewerRequest, { type: T }>;

/**
 * A /api/servers answer (another server's word: only http(s) string URLs are
 * taken, and string ids): the servers it lists and which one answered.
 */
export function parseServerListing(body: unknown): { servers: ListedServer[]; self: string | null } | null {
  if (typeof body !== 'object' || body === null) return null;
  const { servers, self } = body as { servers?: unknown; self?: unknown };
  if (!Array.isArray(servers)) return null;
  const listed = servers.flatMap((s: unknown): ListedServer[] => {
    if (typeof s !== 'object' || s === null) return [];
    const { id, url } = s as { id?: unknown; url?: unknown };
    return typeof url === 'string' ? [{ id: typeof id === 'string' ? id : null, url }] : [];
  });
  return { servers: listed, self: typeof self === 'string' ? self : null };
}

export class SessionLinks extends TypedEmitter<SessionLinksEvents> {
  readonly token: string | null;
  /** REST calls (export, thumbnails, import) to any live server, over the same list and backoff. */
  readonly rest: ClusterRest;
  readonly #list: ServerList;
  readonly #links = new Map<string, ServerLink>();
  readonly #route = new InputRoute();
  readonly #fetch: typeof fetch;
  readonly #now: () => number;
  readonly #onServers: (urls: string[]) => void;
  #joinedAs: { sessionId: string; clientId: string } | null = null;
  readonly #joining = new Set<string>();
  /** Some server is joined (since the last `offline`): the sender is online. */
  #inputsOnline = false;
  #merged: MergedSession | null = null;
  #timer: ReturnType<typeof setInterval> | null = null;
  #lastListAt = Number.NEGATIVE_INFINITY;
  /** The page's server has no /api/servers (single-server mode): nothing else to learn. */
  #standalone = false;
  #closed = false;

  constructor(opts: SessionLinksOptions) {
    super();
    this.token = opts.token;
    this.#fetch = opts.fetch ?? ((input, init) => fetch(input, init));
    this.#now = opts.now ?? (() => performance.now());
    this.#onServers = opts.onServers ?? (() => undefined);
    this.#list = new ServerList(opts.origin);
    this.rest = new ClusterRest({ servers: this.#list, token: () => this.token, fetch: this.#fetch, now: this.#now });
    this.#addLink(this.#list.origin);
  }

  /** The page's own server's link. */
  get primary(): ServerLink {
    const link = this.#links.get(this.#list.origin);
    if (!link) throw new Error('the page server link is always kept');
    return link;
  }

  get links(): ReadonlyMap<string, ServerLink> {
    return this.#links;
  }

  /** Connected when any server is; else how the page's own server stands. */
  get state(): ConnectionState {
    for (const l of this.#links.values()) if (l.state === 'connected') return 'connected';
    return this.primary.state;
  }

  get merged(): MergedSession | null {
    return this.#merged;
  }

  /** The server the inputs go through now (null while none is joined). */
  get inputServer(): string | null {
    return this.#route.current;
  }

  /** The link of the server that homes `replicaId`, if it is joined. */
  homeOf(replicaId: string): ServerLink | undefined {
    const url = this.#merged?.homes.get(replicaId);
    const link = url === undefined ? undefined : this.#links.get(url);
    return link?.joined ? link : undefined;
  }

  /** Joins through the page's own server, then reaches out to the others the cluster lists. */
  async join(sessionId: string, clientId: string): Promise<JoinResult> {
    this.#joinedAs = { sessionId, clientId };
    const primary = this.primary;
    this.#joining.add(primary.url);
    let result: JoinResult;
    try {
      result = await primary.join(sessionId, clientId);
    } finally {
      this.#joining.delete(primary.url);
    }
    this.#timer ??= setInterval(() => this.#maintain(), MAINTAIN_MS);
    this.#maintain();
    return result;
  }

  /** Without a session (the session list): learns the cluster's servers and connects to them, joining nothing. */
  discover(): void {
    this.#timer ??= setInterval(() => this.#maintain(), MAINTAIN_MS);
    this.#maintain();
  }

  /**
   * One request through the input route's server, else through any joined
   * one, else any connected one (the page's own first); the next is tried if
   * one is unreachable.
   */
  async request<T extends ViewerRequest['type']>(msg: RequestOf<T>): Promise<ViewerResponses[T]> {
    const order = this.#requestOrder();
    let last: unknown = new ViewerRequestError('unavailable', `${msg.type}: no server reachable`);
    for (const link of order) {
      try {
        return await link.client.request(msg);
      } catch (err) {
        last = err;
        if (!(err instanceof ViewerRequestError) || err.code !== 'unavailable') throw err;
      }
    }
    throw last;
  }

  /**
   * A copy out of the app: through the shown replica's home server (under the
   * id that server knows it by), so the copy matches the picture; else any.
   */
  copy(req: RequestOf<'clipboard.copy'>): Promise<ViewerResponses['clipboard.copy']> {
    const id = req.replicaId;
    const home = id === undefined ? undefined : this.homeOf(id);
    const wire = id === undefined ? undefined : this.#merged?.wireIds.get(id);
    if (!home || wire === undefined) {
      const { replicaId: _unused, ...rest } = req;
      return this.request(rest);
    }
    return home.client.request({ ...req, replicaId: wire }).catch(() => this.request({ ...req, replicaId: wire }));
  }

  /** One input through the route's server only (the sender decides when to resend elsewhere). */
  sendInput(req: InputRequest): Promise<InputAck> {
    const url = this.#route.current;
    const link = url === null ? undefined : this.#links.get(url);
    if (!link) return Promise.reject(new ViewerRequestError('unavailable', 'no server joined'));
    return link.client.request(req);
  }

  /**
   * Asks the input route's server for an answer that needs nothing but its
   * event loop (resolves when it answers; rejects if no route or no answer in
   * `timeoutMs`).
   */
  async pingRoute(timeoutMs = 2000): Promise<void> {
    const url = this.#route.current;
    const link = url === null ? undefined : this.#links.get(url);
    if (!link) throw new ViewerRequestError('unavailable', 'no server joined');
    await link.client.request({ type: 'ping' }, timeoutMs);
  }

  /** Inputs went unacknowledged through the route's server: true when another server takes the route. */
  reroute(): boolean {
    const from = this.#route.current;
    const to = this.#route.switchAway(this.#now());
    if (to !== null) log('input route', from, '→', to);
    return to !== null;
  }

  close(): void {
    this.#closed = true;
    if (this.#timer !== null) clearInterval(this.#timer);
    this.#timer = null;
    for (const l of this.#links.values()) l.close();
    this.#links.clear();
    this.removeAllListeners();
  }

  async leave(): Promise<void> {
    const joined = [...this.#links.values()].filter((l) => l.joined);
    this.#joinedAs = null;
    await Promise.all(joined.map((l) => l.client.leave()));
  }

  #requestOrder(): ServerLink[] {
    const joined = [...this.#links.values()].filter((l) => l.joined);
    const route = this.#route.current;
    joined.sort((a, b) => (a.url === route ? -1 : b.url === route ? 1 : 0));
    if (joined.length > 0) return joined;
    const connected = [...this.#links.values()].filter((l) => l.connected);
    return connected.length > 0 ? connected : [this.primary];
  }

  #addLink(url: string): ServerLink {
    const link = new ServerLink({ url, token: this.token, pageOwn: url === this.#list.origin, now: this.#now });
    this.#links.set(url, link);
    link.on('state', ({ state, detail }) => {
      if (state === 'connected') {
        this.#list.noteSuccess(url);
        this.#joinIfMissing(link);
      } else if (detail !== null && state !== 'refused') this.#list.noteFailure(url, this.#now());
      this.emit('state', { state: this.state, detail });
    });
    link.on('joined', ({ result, rejoin }) => {
      this.#list.noteSuccess(url);
      const resync = !this.#inputsOnline;
      this.#inputsOnline = true;
      this.#updateRoute();
      this.#remerge();
      this.emit('joined', { link, result, rejoin, resync });
    });
    link.on('offline', () => this.#onLinkOffline(link));
    link.on('rejoinFailed', ({ error }) => {
      this.#list.noteFailure(url, this.#now());
      this.#updateRoute();
      this.#remerge();
      if (link === this.primary && this.#joinedLinks().length === 0) this.emit('rejoinFailed', { error });
    });
    link.on('notify', (n) => {
      if (n.type === 'session.update') {
        this.#remerge();
        return;
      }
      if (n.type === 'selection.geometry') {
        // Keyed as the viewer keys that server's replica (see viewerReplicaId).
        const id = this.#merged ? viewerIdFor(this.#merged, url, n.replicaId) : undefined;
        if (id !== undefined) this.emit('notify', { link, notification: { ...n, replicaId: id } });
        return;
      }
      this.emit('notify', { link, notification: n });
    });
    link.on('mediaFailed', () => this.emit('mediaFailed', { link }));
    return link;
  }

  #joinedLinks(): ServerLink[] {
    return [...this.#links.values()].filter((l) => l.joined);
  }

  #onLinkOffline(link: ServerLink): void {
    const carried = this.#route.current === link.url;
    this.#updateRoute();
    if (this.#joinedLinks().length === 0) {
      // Alone, the view is kept as it was: the streams hold their last choice until the re-join.
      this.#inputsOnline = false;
      this.emit('offline', null);
      return;
    }
    // Streams first (its replicas fail now, like a crashed renderer's), then the merged view without them.
    this.emit('linkOffline', { link, carriedInputs: carried });
    this.#remerge();
  }

  #updateRoute(): void {
    this.#route.setUsable(
      this.#joinedLinks().map((l) => l.url),
      this.#now(),
    );
  }

  #remerge(): void {
    const views = this.#joinedLinks().flatMap((l) =>
      l.session ? [{ url: l.url, session: l.session, receivedAt: l.receivedAt }] : [],
    );
    const merged = mergeSessions(this.#list.origin, views);
    if (!merged) return;
    this.#merged = merged;
    this.emit('session', merged);
  }

  #joinIfMissing(link: ServerLink): void {
    const as = this.#joinedAs;
    if (!as || link.joined || !link.connected || this.#joining.has(link.url) || this.#closed) return;
    if (link.rejoinsItself) return; // its SessionClient re-joins after a reconnect by itself
    if (!this.#list.isDue(link.url, this.#now())) return;
    this.#joining.add(link.url);
    link.join(as.sessionId, as.clientId).then(
      () => this.#joining.delete(link.url),
      (err: unknown) => {
        this.#joining.delete(link.url);
        // Not opened there yet (the session watch is behind), or unreachable: tried again later.
        log('join failed', link.url, err);
        this.#list.noteFailure(link.url, this.#now());
      },
    );
  }

  /** Every MAINTAIN_MS: refresh the server list now and then, join where the session is not joined yet. */
  #maintain(): void {
    if (this.#closed) return;
    const now = this.#now();
    if (!this.#standalone && now - this.#lastListAt >= SERVER_LIST_REFRESH_MS) {
      this.#lastListAt = now;
      void this.#refreshList();
    }
    for (const link of this.#links.values()) this.#joinIfMissing(link);
  }

  /** Asks the live servers in turn for the cluster's server list; links follow it. */
  async #refreshList(): Promise<void> {
    const now = this.#now();
    const candidates = this.#list
      .due(now)
      .sort((a, b) => Number(this.#links.get(b)?.connected) - Number(this.#links.get(a)?.connected));
    for (const url of candidates) {
      let res: Response;
      try {
        res = await this.#fetch(`${url}/api/servers`, {
          headers: this.token ? { authorization: `Bearer ${this.token}` } : {},
        });
      } catch (err) {
        log('server list failed', url, err);
        this.#list.noteFailure(url, this.#now());
        continue;
      }
      if (res.status === 404 && url === this.#list.origin) {
        this.#standalone = true; // single-server mode: no cluster to learn
        return;
      }
      const listing = res.ok ? parseServerListing(await res.json().catch(() => null)) : null;
      if (!listing) {
        this.#list.noteFailure(url, this.#now());
        continue;
      }
      this.#list.noteSuccess(url);
      if (this.#closed) return;
      // Servers are told apart by id: the page's own is listed under its advertised URL, maybe not the page's.
      if (url === this.#list.origin && listing.self !== null) this.#list.setOriginId(listing.self);
      this.#applyList(listing.servers);
      this.#onServers(listing.servers.map((x) => x.url));
      return;
    }
  }

  #applyList(servers: ListedServer[]): void {
    const { added, removed } = this.#list.update(servers);
    for (const url of removed) {
      const link = this.#links.get(url);
      if (!link) continue;
      const wasJoined = link.joined;
      this.#links.delete(url);
      link.close();
      if (wasJoined) this.#onLinkOffline(link);
    }
    for (const url of added) {
      log('server learnt', url);
      this.#addLink(url);
    }
  }
}
