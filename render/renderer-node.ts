// The renderer node: joins the server, hosts the replicas it is assigned, feeds
// them the input log and reports their applied seq and state hash. Closing the
// node closes its replicas (and their producers) before its socket.
import { io, type Socket } from 'socket.io-client';
import type { z } from 'zod';
import type { types as msc } from 'mediasoup-client';
import { WireResultSchema, type Result } from '../protocol/errors.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  AdoptedReplicasSchema,
  NodeNotificationSchema,
  NodeResponseSchemas,
  RehomeConfirmationSchema,
  type RehomeConfirmation,
  type HeldReplica,
  type NodeClientToServer,
  type NodeNotification,
  type NodeRequest,
  type NodeResponses,
  type NodeServerToClient,
  type ReplicaAssignment,
} from '../protocol/signalling.js';
import type { AppRef } from '../protocol/session.js';
import { TypedEmitter } from '../protocol/typed-emitter.js';
import { cpus, loadavg } from 'node:os';
import { appCatalog, appContentHash } from './app-catalog.js';
import { getApp } from './apps/index.js';
import { canRunApp } from '../protocol/app-capability.js';
import { isPublishedApp } from '../protocol/bundle.js';
import { BundleCache } from './bundle/bundle-cache.js';
import { PublishedApps } from './bundle/published-apps.js';
import { loadSandboxLimits, type RenderConfig } from './config.js';
import { appFailureReason, isAppStartFailure, refusalCodeOf } from './app-failure.js';
import { AppFailedError, AppPolicyError, AppVersionError, MalformedReplyError } from './errors.js';
import type { AppFailureReason } from '../protocol/replica-failure.js';
import { Replica, type ReplicaSnapshot } from './replica.js';
import type { App } from './app-types.js';
import { copyWhenApplied } from './copy-text.js';
import type { ReplicaApp } from './replica-app.js';
import { exposedCollector, FrameGc } from './frame-gc.js';
import { FrameTrace } from './frame-trace.js';
import { Thumbnailer } from './thumbnailer.js';
import type { ProducerSignalling } from './video-producer.js';
import { parseServerList, ServerRotation } from './server-rotation.js';
import { LinkWatch } from './link-watch.js';
import { normalizeServerUrl } from './cli-options.js';

/** What a held replica's status must look like to be announced (the schema's rule). */
const STATE_HASH = /^[0-9a-f]{16,64}$/;
/** The machine's cores, read once (os.cpus() reads every core's /proc and /sys entries; the heartbeat is per second). */
const CORES = Math.max(1, cpus().length);
/** A GET /api/servers answer larger than this is not a server list. */
const MAX_SERVER_LIST_BYTES = 64 * 1024;

const log = getLogger('renderer-node');

export class NodeRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly request: string,
    /** What the server's refusal said beyond its code (a forgotten registration: `{ registered: false }`). */
    readonly details?: unknown,
  ) {
    super(`${request}: ${code}: ${message}`);
    this.name = 'NodeRequestError';
  }
}

function toError(err: unknown): Error {
  return err instanceof Error ? err : new Error(String(err));
}

/** A refusal's details saying the connection holds no registration (server/errors.ts NotRegisteredError). */
function isNotRegistered(details: unknown): boolean {
  return typeof details === 'object' && details !== null && (details as { registered?: unknown }).registered === false;
}

export interface RendererNodeEvents {
  registered: [];
  disconnected: [string];
  replicaadded: [string];
  replicaremoved: [string];
}

type NodeSocket = Socket<NodeServerToClient, NodeClientToServer>;

/**
 * What the server pushed, or null: a node never trusts its socket either. Never
 * throws, whatever `raw` is (fuzzed in test/unit/node-notification-fuzz.test.ts).
 */
export function parseNodeNotification(raw: unknown): NodeNotification | null {
  try {
    const parsed = NodeNotificationSchema.safeParse(raw);
    if (parsed.success) return parsed.data;
    log.warn({ issues: parsed.error.issues.slice(0, 3).map((i) => i.message) }, 'malformed notification dropped');
  } catch (err) {
    // safeParse only throws on exotic inputs (throwing getters, revoked proxies): still a drop.
    log.warn({ err: err instanceof Error ? err.message : 'unknown' }, 'unparseable notification dropped');
  }
  return null;
}

/** What the server sends about one replica it runs here (replica.close is not held: it cancels a start). */
type ReplicaNotification = Exclude<NodeNotification, { type: 'replica.create' | 'replica.close' | 'node.rehome' }>;

function isReplicaNotification(msg: NodeNotification): msg is ReplicaNotification {
  return msg.type !== 'replica.create' && msg.type !== 'replica.close' && msg.type !== 'node.rehome';
}

/** Notifications held for one starting replica at most (see RendererNode #starting). */
const MAX_HELD_NOTIFICATIONS = 256;

/**
 * Malformed answers to node.register on one connection before the node leaves that server (about 18 s of backoff):
 * a server restarting mid-upgrade may answer oddly for a while, one that never answers properly is not waited on.
 */
const MAX_MALFORMED_REGISTER_ANSWERS = 8;

/** Refusals of node.register worth another try on the same connection (the rest leave the server: see #tryRegister). */
const RETRYABLE_REGISTER_CODES: ReadonlySet<string> = new Set([
  'conflict',
  'timeout',
  'unavailable',
  'rate-limited',
  'internal',
]);

/** A schema's first few issues, each short: what a malformed reply's error and log say of it. */
function issuesOf(error: z.ZodError): string[] {
  return error.issues.slice(0, 3).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`.slice(0, 200));
}

/**
 * The server's ack to a `type` request, parsed: the ack's shape, then its data by the request's schema
 * (protocol/signalling.ts NodeResponseSchemas). A MalformedReplyError when either is wrong; never throws,
 * whatever `raw` is.
 */
export function parseNodeReply<T extends NodeRequest['type']>(
  type: T,
  raw: unknown,
): Result<NodeResponses[T]> | MalformedReplyError {
  try {
    const ack = WireResultSchema.safeParse(raw);
    if (!ack.success) return new MalformedReplyError(type, issuesOf(ack.error));
    if (!ack.data.ok) return ack.data;
    const schema: z.ZodType<NodeResponses[T], z.ZodTypeDef, unknown> = NodeResponseSchemas[type];
    const data = schema.safeParse(ack.data.data);
    return data.success ? { ok: true, data: data.data } : new MalformedReplyError(type, issuesOf(data.error));
  } catch {
    // safeParse only throws on exotic inputs (throwing getters, revoked proxies): still malformed.
    return new MalformedReplyError(type, ['unparseable']);
  }
}

/** The target server's confirmation of a rehome directive, or null when it is not one. */
function parseRehomeConfirmation(text: string): RehomeConfirmation | null {
  try {
    const parsed = RehomeConfirmationSchema.safeParse(JSON.parse(text));
    return parsed.success ? parsed.data : null;
  } catch {
    return null;
  }
}

export class RendererNode extends TypedEmitter<RendererNodeEvents> {
  readonly config: RenderConfig;
  /** The connection to the current server (one socket per attempt: each may go to another URL). */
  #socket: NodeSocket | undefined;
  #serverUrl: string | undefined;
  /** The liveness watch on the registered link: a silent server (partitioned, stopped) is left within its bound. */
  #linkWatch: LinkWatch | undefined;
  readonly #rotation: ServerRotation;
  #connectTimer: NodeJS.Timeout | undefined;
  #serverListTimer: NodeJS.Timeout | undefined;
  /** Rejects of the requests in flight on the current socket: a lost server fails them at once. */
  readonly #inflight = new Set<(err: Error) => void>();
  /** Replicas kept running without a server, until the next server adopts (or refuses) them. */
  readonly #held = new Set<string>();
  /** The ticket the server gave with each replica.create: what lets us claim the replica back after a server death. */
  readonly #tickets = new Map<string, string>();
  #holdTimer: NodeJS.Timeout | undefined;
  /** Until the first registration: attempts that failed (create() gives up when every URL failed once). */
  #startup: { failed: Set<string>; reject: (err: Error) => void } | undefined;
  readonly replicas = new Map<string, Replica<unknown>>();
  readonly #thumbnails = new Thumbnailer({
    send: (replicaId, jpegBase64) => this.request({ type: 'replica.thumbnail', replicaId, jpegBase64 }),
    offer: (replicaId) => this.request({ type: 'replica.thumbnailOffer', replicaId }),
    active: () => this.#socket?.connected === true && this.#registered,
    onWork: (replicaId, startedAt, endedAt) => this.#trace?.busy('thumbnail', replicaId, startedAt, endedAt),
  });
  /**
   * Replicas being started, each with what the server sent for it meanwhile: the server counts a replica
   * live once its video is produced, before Replica.create returns here (the tile channel, the app's init),
   * so a copy request or `replica.watched` can arrive for a replica not yet listed. Held (bounded) and
   * handled once it is listed, in order; dropped with it when its start fails or it is closed.
   */
  readonly #starting = new Map<string, ReplicaNotification[]>();
  #statusTimer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #registered = false;
  /** A rehome directive is being checked with its target. */
  #moving = false;
  /** Fault injection: replicas that already pushed their unsolicited forged snapshot. */
  readonly #forgedPushed = new Set<string>();
  /** The host id the server admitted this node as (from its join token). */
  #hostId: string | undefined;
  #closed = false;
  /** Our own credential, issued at the first registration; reconnects use it instead of the join token. */
  readonly #auth: { credential: string | undefined };
  #registerRetry: NodeJS.Timeout | undefined;
  readonly #bundleCache: BundleCache;
  readonly #published: PublishedApps;
  /** The per-frame trace (LOCKSTEP_TRACE_DIR), with the encoder's counters once a second. */
  readonly #trace: FrameTrace | undefined;
  readonly #traceTimer: NodeJS.Timeout | undefined;
  /** Collects each rendered frame's read-back garbage right after the frame went out. */
  readonly #frameGc: FrameGc;

  private constructor(config: RenderConfig) {
    super();
    this.config = config;
    this.#frameGc = new FrameGc({ collect: config.frameGc ? exposedCollector() : null });
    this.#auth = { credential: undefined };
    this.#rotation = new ServerRotation({
      configured: config.serverUrls,
      baseDelayMs: config.reconnectBaseMs,
      maxDelayMs: config.reconnectMaxMs,
    });
    this.#bundleCache = BundleCache.open(config.bundleCacheDir, config.bundleCacheBytes);
    if (config.traceDir) {
      const trace = FrameTrace.create(config.traceDir, config.nodeId);
      this.#trace = trace;
      this.#traceTimer = setInterval(() => {
        // An unwatched replica encodes nothing (its counters stand still); each reading costs its node's loop.
        for (const [id, r] of this.replicas) {
          if (!r.watched) continue;
          r.encoderStats()?.then(
            (st) => trace.encoder(id, st),
            () => undefined,
          );
        }
      }, 1000);
      this.#traceTimer.unref();
    }
    this.#published = new PublishedApps({
      cache: this.#bundleCache,
      fetchChunk: (hash, offset) => this.request({ type: 'bundle.fetch', hash, offset }),
      limits: loadSandboxLimits(),
      onCacheChange: (bundles) => {
        if (!this.#registered) return;
        this.request({ type: 'node.bundles', bundles: bundles.slice(0, LIMITS.maxAdvertisedBundles) }).catch(
          (err: unknown) => log.debug({ err }, 'bundle advertisement failed'),
        );
      },
    });
  }

  /**
   * Connects and registers; resolves once a server accepted the node, rejects
   * when every configured server refused or could not be reached once.
   */
  static async create(config: RenderConfig): Promise<RendererNode> {
    const node = new RendererNode(config);
    await new Promise<void>((resolve, reject) => {
      node.#startup = {
        failed: new Set(),
        reject: (err) => {
          node.close();
          reject(err);
        },
      };
      node.once('registered', () => {
        node.#startup = undefined;
        resolve();
      });
      node.#connectNext();
    });
    return node;
  }

  #startTimers(): void {
    this.#statusTimer = setInterval(() => {
      this.#reportAll();
      if (++this.#ticks % Math.max(1, Math.round(1000 / this.config.statusIntervalMs)) === 0) this.#heartbeat();
    }, this.config.statusIntervalMs);
    this.#serverListTimer = setInterval(() => void this.#refreshServers(), this.config.serverListRefreshMs);
    this.#serverListTimer.unref();
  }

  /** Connects to the next server URL (render/server-rotation.ts), after its backoff. */
  #connectNext(): void {
    if (this.#closed) return;
    const { url, delayMs } = this.#rotation.next(Date.now());
    clearTimeout(this.#connectTimer);
    this.#connectTimer = setTimeout(() => this.#open(url), delayMs);
  }

  #open(url: string): void {
    if (this.#closed) return;
    if (this.#statusTimer === undefined) this.#startTimers();
    const socket: NodeSocket = io(`${url}/node`, {
      // Evaluated at connect: the credential once we have one.
      auth: (cb) => cb({ token: this.#auth.credential ?? this.config.joinToken ?? '' }),
      transports: ['websocket'],
      // We reconnect ourselves, to this URL or the next one.
      reconnection: false,
      forceNew: true,
      timeout: this.config.connectTimeoutMs,
    });
    this.#socket = socket;
    this.#serverUrl = url;
    socket.on('connect', () => this.#tryRegister(socket, 0));
    socket.on('connect_error', (err) => this.#lost(socket, url, `connect failed: ${err.message}`, err));
    socket.on('disconnect', (reason) => this.#lost(socket, url, reason));
    socket.on('notify', (raw: unknown) => {
      if (this.#socket !== socket) return;
      this.#linkWatch?.heard();
      this.#onNotify(raw);
    });
  }

  /**
   * The leader's directive to move home, relayed by the server we are on: we
   * move only to a URL already in our own list, and only once that server,
   * asked directly with our credential, confirms the same directive (it reads
   * it from etcd). Then we leave as if our server had died, without blaming
   * it: the replicas are held and the target adopts them (nothing rebuilt).
   */
  async #rehome(msg: { directiveId: string; serverId: string; url: string }): Promise<void> {
    const from = this.#serverUrl;
    const credential = this.#auth.credential;
    if (this.#moving || this.#held.size > 0 || !this.#registered || from === undefined) return;
    let url: string;
    try {
      url = normalizeServerUrl(msg.url);
    } catch {
      log.warn({ url: msg.url.slice(0, 200) }, 'rehome directive to a malformed URL ignored');
      return;
    }
    if (url === from) return;
    if (!this.#rotation.knows(url) || credential === undefined) {
      log.warn({ url, directiveId: msg.directiveId }, 'rehome directive to a server not in our list ignored');
      return;
    }
    this.#moving = true;
    try {
      const res = await fetch(`${url}/api/rehome`, {
        headers: { authorization: `Bearer ${credential}` },
        signal: AbortSignal.timeout(5000),
      });
      const text = res.ok ? await res.text() : '';
      const confirmed = text.length > 0 && text.length <= 4096 ? parseRehomeConfirmation(text) : null;
      if (
        !confirmed ||
        confirmed.directiveId !== msg.directiveId ||
        confirmed.nodeId !== this.config.nodeId ||
        confirmed.serverId !== msg.serverId
      ) {
        log.warn(
          { url, status: res.status, directiveId: msg.directiveId },
          'rehome not confirmed by the target; staying',
        );
        return;
      }
      const socket = this.#socket;
      if (!socket || this.#serverUrl !== from || this.#closed) return;
      log.info(
        { from, to: url, directiveId: msg.directiveId, replicas: this.replicas.size },
        'moving home (rebalance)',
      );
      this.#rotation.prefer(url);
      this.#lost(socket, from, 'moving home (rebalance)', undefined, true);
    } catch (err) {
      log.warn({ err, url }, 'rehome confirmation failed; staying');
    } finally {
      this.#moving = false;
    }
  }

  /** This socket failed to connect or dropped: hold our replicas, fail what was in flight, try the next server. */
  #lost(socket: NodeSocket, url: string, reason: string, err?: Error, moving = false): void {
    if (this.#socket !== socket) return;
    socket.removeAllListeners();
    socket.close();
    this.#socket = undefined;
    this.#linkWatch?.stop();
    this.#linkWatch = undefined;
    const wasRegistered = this.#registered;
    this.#registered = false;
    clearTimeout(this.#registerRetry);
    for (const reject of this.#inflight)
      reject(new NodeRequestError('unavailable', `disconnected: ${reason}`, 'request'));
    this.#inflight.clear();
    if (this.#closed) return;
    if (wasRegistered) {
      this.#hold(reason);
      this.emit('disconnected', reason);
    }
    // A refused credential (revoked, expired, or a server with another
    // database): forget it and join this server again with the join token.
    if (err && this.#auth.credential !== undefined && /unauthori[sz]ed/i.test(err.message)) {
      log.warn({ err: err.message, url }, 'node credential refused; re-joining with the join token');
      this.#auth.credential = undefined;
      this.#connectTimer = setTimeout(() => this.#open(url), this.config.reconnectBaseMs);
      return;
    }
    // Leaving on the leader's word is not the server's failure: it stays in turn without a backoff.
    if (!moving) this.#rotation.failed(url, Date.now());
    const startup = this.#startup;
    if (startup) {
      startup.failed.add(url);
      if (this.config.serverUrls.every((u) => startup.failed.has(u))) {
        startup.reject(err ?? new Error(reason));
        return;
      }
    }
    this.#connectNext();
  }

  /**
   * No server: keep every replica's state (detached from the dead SFU) for the
   * next server to adopt; what nobody adopted within the grace period is closed.
   */
  #hold(reason: string): void {
    for (const [id, replica] of this.replicas) {
      replica.detachVideo();
      this.#held.add(id);
    }
    if (this.#held.size === 0) return;
    log.warn(
      { reason, replicas: this.#held.size, holdMs: this.config.holdReplicasMs },
      'disconnected from server; holding replicas for a server to adopt',
    );
    this.#holdTimer ??= setTimeout(() => {
      this.#holdTimer = undefined;
      if (this.#held.size === 0) return;
      log.warn({ replicas: this.#held.size }, 'no server adopted the held replicas in time; closing them');
      for (const id of [...this.#held]) this.#closeReplica(id);
    }, this.config.holdReplicasMs);
  }

  /** What we announce of the held replicas: applied seq and state hash, taken together. */
  async #heldClaims(): Promise<HeldReplica[]> {
    const claims: HeldReplica[] = [];
    for (const id of [...this.#held].slice(0, LIMITS.maxHeldReplicas)) {
      const replica = this.replicas.get(id);
      if (!replica) continue;
      const status = await replica.status().catch(() => null);
      const ticket = this.#tickets.get(id);
      if (!status || !STATE_HASH.test(status.stateHash) || ticket === undefined) continue;
      const { sessionId, app } = replica.assignment;
      claims.push({
        replicaId: id,
        sessionId,
        app,
        appliedSeq: status.appliedSeq,
        stateHash: status.stateHash,
        ticket,
      });
    }
    return claims;
  }

  /** The server's answer on our held replicas: re-produce what it adopted (and fetch what we missed), close the rest. */
  #settleHeld(adoptedRaw: unknown): void {
    const parsed = AdoptedReplicasSchema.safeParse(adoptedRaw ?? []);
    if (!parsed.success) log.warn('malformed adoption answer; closing the held replicas');
    const adopted = new Map(parsed.success ? parsed.data.map((a) => [a.replicaId, a.headSeq]) : []);
    for (const id of [...this.#held]) {
      this.#held.delete(id);
      const replica = this.replicas.get(id);
      const headSeq = adopted.get(id);
      if (!replica) continue;
      if (headSeq === undefined) {
        log.info({ replicaId: id }, 'held replica not adopted; closing it');
        this.#closeReplica(id);
        continue;
      }
      log.info(
        {
          replicaId: id,
          sessionId: replica.sessionId,
          appliedSeq: replica.appliedSeq,
          headSeq,
          server: this.#serverUrl,
        },
        'replica adopted',
      );
      replica.noteHead(headSeq);
      replica.reproduce().then(
        () => {
          log.info({ replicaId: id, producerId: replica.producerId }, 'adopted replica producing');
          this.#report(id);
        },
        (err: unknown) => {
          log.warn({ replicaId: id, err }, 'adopted replica could not produce; closing it');
          this.#closeReplica(id);
          const reason = err instanceof Error ? err.message : String(err);
          this.request({
            type: 'replica.refuse',
            replicaId: id,
            code: 'start-failed',
            reason: reason.slice(0, 500),
          }).catch(() => undefined);
        },
      );
    }
    clearTimeout(this.#holdTimer);
    this.#holdTimer = undefined;
  }

  /** The cluster's current server list, learned from the server we are on (not there in single-server mode). */
  async #refreshServers(): Promise<void> {
    const url = this.#serverUrl;
    const token = this.#auth.credential ?? this.config.joinToken;
    if (!url || !token || !this.#registered) return;
    try {
      const res = await fetch(`${url}/api/servers`, {
        headers: { authorization: `Bearer ${token}` },
        signal: AbortSignal.timeout(5000),
      });
      if (!res.ok) {
        log.debug({ status: res.status }, 'no server list here');
        return;
      }
      const text = await res.text();
      if (text.length > MAX_SERVER_LIST_BYTES) return;
      const list = parseServerList(JSON.parse(text) as unknown);
      if (list) this.#rotation.learn(list);
    } catch (err) {
      log.debug({ err }, 'server list not fetched');
    }
  }

  /** The host id the server admitted this node as (from its join token); undefined before registering. */
  get hostId(): string | undefined {
    return this.#hostId;
  }

  #tryRegister(socket: NodeSocket, attempt: number, malformed = 0): void {
    this.#register(socket).catch((err: unknown) => {
      if (this.#socket !== socket) return;
      // `conflict`: our previous connection is still registered (the server has
      // not noticed it died yet); retry until it has, while we stay connected.
      // A malformed answer is not acted on (the replicas stay held) and asked again, as a transient refusal
      // is, but not forever: a server that answers garbage MAX_MALFORMED_REGISTER_ANSWERS times on one connection is
      // left as a failed one (the next server in turn, or at startup the exit once every server failed).
      const garbled = err instanceof MalformedReplyError ? malformed + 1 : malformed;
      const retryable =
        (err instanceof MalformedReplyError && garbled < MAX_MALFORMED_REGISTER_ANSWERS) ||
        (err instanceof NodeRequestError && RETRYABLE_REGISTER_CODES.has(err.code));
      if (this.#closed || !socket.connected) return;
      if (retryable) {
        log.warn({ err, attempt }, 'register refused; retrying');
        this.#registerRetry = setTimeout(
          () => this.#tryRegister(socket, attempt + 1, garbled),
          Math.min(5000, 250 * 2 ** attempt),
        );
        return;
      }
      // Refused for good (bad-request, forbidden, ...) or garbled past the bound: staying connected and idle
      // would help nobody. Leave this server as a failed one: at startup, once every configured server failed,
      // create() rejects and the process exits non-zero; later, the rotation tries the next server after its
      // backoff.
      const url = this.#serverUrl ?? '';
      const why =
        err instanceof MalformedReplyError
          ? `${garbled} malformed answers to node.register on this connection`
          : err instanceof Error
            ? err.message
            : String(err);
      log.error({ err, server: url }, 'registration refused by the server; leaving it');
      this.#lost(socket, url, `registration refused: ${why}`, toError(err));
    });
  }

  async #register(socket: NodeSocket): Promise<void> {
    const held = await this.#heldClaims();
    if (this.#socket !== socket) return;
    const res = await this.request({
      type: 'node.register',
      nodeId: this.config.nodeId,
      hostId: this.config.hostId,
      apps: appCatalog(),
      ...(this.config.warmApps ? { warmApps: this.config.warmApps } : {}),
      appPolicy: this.config.appPolicy,
      bundles: this.#bundleCache.hashes().slice(0, LIMITS.maxAdvertisedBundles),
      capacity: { cores: CORES, maxReplicas: this.config.maxReplicas },
      ...(held.length > 0 ? { held } : {}),
    });
    if (this.#socket !== socket) return;
    if (res.credential) this.#auth.credential = res.credential;
    this.#hostId = res.hostId;
    this.#registered = true;
    this.#watchLink(socket);
    if (this.#serverUrl) this.#rotation.succeeded(this.#serverUrl);
    log.info(
      { nodeId: this.config.nodeId, hostId: res.hostId, server: this.#serverUrl, held: held.length },
      'registered',
    );
    // Held replicas not announced (no usable status) are not adopted either.
    this.#settleHeld(held.length > 0 || this.#held.size > 0 ? res.adopted : []);
    this.emit('registered');
    void this.#refreshServers();
  }

  /**
   * Pings the registered server; when it says nothing for the bound (a
   * partition or a SIGSTOP keeps the socket open), leave it as if it had died:
   * the replicas are held and the next server in turn adopts them by ticket
   * (the same path as a killed server's socket closing).
   */
  #watchLink(socket: NodeSocket): void {
    this.#linkWatch?.stop();
    const url = this.#serverUrl;
    if (url === undefined) return;
    this.#linkWatch = new LinkWatch({
      intervalMs: this.config.nodePingIntervalMs,
      silenceMs: this.config.nodeSilenceMs,
      ping: () => this.request({ type: 'node.ping' }),
      onSilent: (silentMs) => {
        if (this.#socket !== socket) return;
        log.warn({ server: url, silentMs, replicas: this.replicas.size }, 'home server silent; leaving it');
        this.#lost(socket, url, `server silent for ${silentMs} ms`);
      },
    });
  }

  /** One request to the current server; refused at once without one (nothing is queued for a dead socket). */
  request<T extends NodeRequest['type']>(msg: Extract<NodeRequest, { type: T }>): Promise<NodeResponses[T]> {
    const socket = this.#socket;
    if (!socket?.connected) {
      return Promise.reject(new NodeRequestError('unavailable', 'not connected to a server', msg.type));
    }
    return new Promise((resolve, reject) => {
      this.#inflight.add(reject);
      socket.timeout(15_000).emit('request', msg, (err: Error | null, raw: unknown) => {
        this.#inflight.delete(reject);
        if (!err && this.#socket === socket) this.#linkWatch?.heard();
        if (err) {
          reject(new NodeRequestError('timeout', err.message, msg.type));
          return;
        }
        const res = parseNodeReply(msg.type, raw);
        if (res instanceof MalformedReplyError) {
          log.warn({ err: res, server: this.#serverUrl }, 'malformed reply from the server; not acted on');
          reject(res);
        } else if (res.ok) resolve(res.data);
        else {
          reject(new NodeRequestError(res.error.code, res.error.message, msg.type, res.error.details));
          if (res.error.code === 'forbidden' && isNotRegistered(res.error.details)) this.#forgotten(socket);
        }
      });
    });
  }

  /**
   * The server answered that it holds no registration for this connection while we thought we had one (it
   * forgot us: a bug, or a race it lost). Leave it as if it had dropped: the replicas are held, and the next
   * connection (the same server or the next in turn, after the rotation's backoff) registers again and
   * announces them. Bounded by that backoff, so a server that keeps forgetting cannot make a hot loop.
   */
  #forgotten(socket: NodeSocket): void {
    const url = this.#serverUrl;
    if (this.#socket !== socket || !this.#registered || url === undefined) return;
    log.warn({ server: url, replicas: this.replicas.size }, 'the server no longer knows this node; registering again');
    queueMicrotask(() => this.#lost(socket, url, 'the server no longer knows this node'));
  }

  #onNotify(raw: unknown): void {
    const msg = parseNodeNotification(raw);
    if (!msg) return;
    const held = isReplicaNotification(msg) && this.#starting.get(msg.replicaId);
    if (!held) {
      this.#handle(msg);
    } else if (held.length < MAX_HELD_NOTIFICATIONS) {
      held.push(msg);
    } else {
      // A server flooding a starting replica: inputs are fetched again, a request unanswered times out there.
      log.warn({ replicaId: msg.replicaId, type: msg.type }, 'too many notifications for a starting replica; dropped');
    }
  }

  #handle(msg: NodeNotification): void {
    switch (msg.type) {
      case 'replica.create':
        if (msg.ticket !== undefined) this.#tickets.set(msg.assignment.replicaId, msg.ticket);
        this.#startReplica(msg.assignment).catch((err: unknown) => {
          log.error({ err, replicaId: msg.assignment.replicaId }, 'replica start failed');
        });
        break;
      case 'replica.close':
        this.#closeReplica(msg.replicaId);
        break;
      case 'inputs': {
        const last = msg.inputs[msg.inputs.length - 1];
        if (last) this.#trace?.inputs(msg.replicaId, last.seq, performance.now());
        this.replicas.get(msg.replicaId)?.receive(msg.inputs);
        break;
      }
      case 'replica.statusRequest':
        this.#report(msg.replicaId);
        break;
      case 'replica.snapshotRequest':
        this.#sendSnapshot(msg.replicaId, msg.seq);
        break;
      case 'replica.copyRequest':
        this.#answerCopy(msg.replicaId, msg.requestId, msg.atSeq);
        break;
      case 'replica.exportRequest':
        this.#answerExport(msg.replicaId, msg.requestId, msg.atSeq, msg.format);
        break;
      case 'replica.watched':
        this.replicas.get(msg.replicaId)?.setWatched(msg.watched, msg.video ?? true);
        break;
      case 'replica.tiles':
        this.replicas.get(msg.replicaId)?.setTiles(msg.on);
        break;
      case 'node.rehome':
        void this.#rehome(msg);
        break;
      default: {
        const never: never = msg;
        log.warn({ msg: never }, 'unknown notification');
      }
    }
  }

  async #startReplica(a: ReplicaAssignment): Promise<void> {
    if (this.replicas.has(a.replicaId) || this.#starting.has(a.replicaId)) return;
    // Never run a version other than the one the session pinned.
    let app;
    try {
      app = await this.#appFor(a.app);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      const code = refusalCodeOf(err);
      log.warn({ replicaId: a.replicaId, app: a.app, code, reason }, 'refusing replica');
      await this.request({ type: 'replica.refuse', replicaId: a.replicaId, code, reason: reason.slice(0, 500) });
      return;
    }
    if (this.#closed || this.replicas.has(a.replicaId) || this.#starting.has(a.replicaId)) return;
    if (this.replicas.size + this.#starting.size >= this.config.maxReplicas) {
      // The owner's cap holds whatever a server asks (placement honours it; this is for one that does not).
      // Checked in the same step as the replica is counted, so concurrent asks cannot pass it together.
      const reason = `this node runs at most ${this.config.maxReplicas} replicas (--max-replicas)`;
      log.warn({ replicaId: a.replicaId, reason }, 'refusing replica');
      await this.request({ type: 'replica.refuse', replicaId: a.replicaId, code: 'start-failed', reason });
      return;
    }
    this.#starting.set(a.replicaId, []);
    const signalling: ProducerSignalling = {
      createTransport: (replicaId) => this.request({ type: 'transport.create', replicaId }),
      connectTransport: async (transportId, dtlsParameters) => {
        await this.request({
          type: 'transport.connect',
          transportId,
          dtlsParameters,
        });
      },
      produce: async (replicaId, transportId, rtpParameters: msc.RtpParameters) => {
        const res = await this.request({
          type: 'produce',
          replicaId,
          transportId,
          kind: 'video',
          rtpParameters,
        });
        return res.producerId;
      },
      produceData: async (replicaId, transportId, sctpStreamParameters: msc.SctpStreamParameters, label) => {
        if (sctpStreamParameters.streamId === undefined) throw new Error('display channel without a stream id');
        const res = await this.request({
          type: 'produceData',
          replicaId,
          transportId,
          sctpStreamParameters: { streamId: sctpStreamParameters.streamId, ordered: true },
          label,
        });
        return res.dataProducerId;
      },
    };
    try {
      const replica = await Replica.create<unknown>({
        assignment: a,
        app,
        maxFps: this.config.maxFps,
        keepaliveMs: this.config.keepaliveMs,
        maxBitrate: this.config.maxBitrate,
        minBitrate: this.config.minBitrate,
        signalling,
        corruptAfter: this.config.faultCorruptAfter,
        fetchInputs: (fromSeq, toSeq) => this.request({ type: 'inputs.fetch', replicaId: a.replicaId, fromSeq, toSeq }),
        fetchSnapshot: async () => {
          const snap = await this.request({ type: 'snapshot.fetch', replicaId: a.replicaId });
          return snap && { seq: snap.seq, stateHash: snap.stateHash, data: Buffer.from(snap.data, 'base64') };
        },
      });
      if (this.config.faultSlowStartMs > 0) await new Promise((r) => setTimeout(r, this.config.faultSlowStartMs));
      const held = this.#starting.get(a.replicaId);
      if (this.#closed || !held) {
        replica.close();
        return;
      }
      // Listed in the same step as it leaves #starting: the --max-replicas count never misses it.
      this.#starting.delete(a.replicaId);
      this.replicas.set(a.replicaId, replica);
      this.#thumbnails.track(replica);
      replica.on('caughtup', () => this.#report(a.replicaId));
      const trace = this.#trace;
      if (trace) replica.on('frame', (frame, timing) => trace.frame(a.replicaId, frame.seq, timing));
      replica.on('frame', () => this.#frameGc.frameSent());
      replica.on('failed', (err) => {
        log.warn({ replicaId: a.replicaId, err }, 'replica failed (video or app); closing it');
        this.#closeReplica(a.replicaId);
        // The app's failure is reported at once (the server re-places it, or finds the app failed at that seq).
        if (err instanceof AppFailedError) this.#reportFailure(a.replicaId, err.reason, err.seq, err.message);
      });
      log.info({ replicaId: a.replicaId, sessionId: a.sessionId, producerId: replica.producerId }, 'replica started');
      this.emit('replicaadded', a.replicaId);
      this.#report(a.replicaId);
      for (const msg of held) this.#handle(msg);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (this.#socket?.connected && !this.#closed) {
        if (isAppStartFailure(err)) {
          // init or restore failed in the app itself: as deterministic as a failing apply, at the seq it started from.
          this.#reportFailure(a.replicaId, appFailureReason(err), a.snapshot?.seq ?? 0, reason);
        } else {
          const code = refusalCodeOf(err);
          await this.request({
            type: 'replica.refuse',
            replicaId: a.replicaId,
            code,
            reason: reason.slice(0, 500),
          }).catch(() => undefined);
        }
      }
      throw err;
    } finally {
      this.#starting.delete(a.replicaId);
    }
  }

  /**
   * The App for exactly this pinned version: a built-in one by name + content
   * hash, or a published bundle (cached or fetched, verified, sandboxed), if
   * this node's owner allows it (the capability rule placement applies too).
   */
  async #appFor(ref: AppRef): Promise<App<unknown> | ReplicaApp<unknown>> {
    if (!isPublishedApp(ref)) {
      const app = getApp(ref.name);
      const have = appContentHash(ref.name);
      if (have !== ref.hash)
        throw new AppVersionError(`app version ${ref.name}@${ref.hash} not on this node (it has ${have})`, {});
      return app;
    }
    const capabilities = {
      apps: appCatalog(),
      appPolicy: this.config.appPolicy,
      warmBundles: this.#bundleCache.hashes(),
      refusedBundles: [],
    };
    if (!canRunApp(capabilities, ref)) {
      throw new AppPolicyError(
        `app bundle ${ref.name}@${ref.hash} is not allowed on this node (--apps ${this.config.appPolicy.kind})`,
        {},
      );
    }
    return this.#published.load(ref);
  }

  #reportFailure(replicaId: string, reason: AppFailureReason, seq: number, message: string): void {
    this.request({ type: 'replica.failed', replicaId, reason, seq, message: message.slice(0, 300) }).catch(
      (err: unknown) => log.warn({ replicaId, err }, 'app failure report not delivered'),
    );
  }

  #closeReplica(replicaId: string): void {
    this.#starting.delete(replicaId);
    this.#held.delete(replicaId);
    this.#tickets.delete(replicaId);
    this.#forgedPushed.delete(replicaId);
    const replica = this.replicas.get(replicaId);
    if (!replica) return;
    this.replicas.delete(replicaId);
    this.#thumbnails.untrack(replicaId);
    replica.close();
    this.emit('replicaremoved', replicaId);
  }

  #report(replicaId: string): void {
    const replica = this.replicas.get(replicaId);
    // A held replica is not the server's until it adopts it.
    if (!replica || !this.#socket?.connected || this.#held.has(replicaId)) return;
    replica
      .status()
      .then((status) => {
        const lieAt = this.config.faultFailAtSeq;
        if (lieAt > 0 && status.appliedSeq >= lieAt) {
          // Fault injection (a lying node): claims the app failed at that input, though it did not.
          log.warn({ replicaId, seq: lieAt }, 'fault injection: reporting a false app failure');
          this.#closeReplica(replicaId);
          this.#reportFailure(replicaId, 'app-threw', lieAt, 'fault injection: a lying node');
          return null;
        }
        // Fault injection (tests of the server's defences): once it holds some state, push a forged snapshot nobody asked for.
        if (this.config.faultForgeSnapshots && status.appliedSeq > 0 && !this.#forgedPushed.has(replicaId)) {
          this.#forgedPushed.add(replicaId);
          void replica.forgedSnapshot().then((snap) => this.#uploadSnapshot(replicaId, snap));
        }
        return this.request({ type: 'replica.status', replicaId, ...status });
      })
      .then(
        (res) => {
          if (res) replica.noteHead(res.headSeq);
        },
        (err: unknown) => log.debug({ err, replicaId }, 'status report failed'),
      );
  }

  /** The app's copy text once the replica applied `atSeq`; unanswered (the server times out) when it cannot. */
  #answerCopy(replicaId: string, requestId: string, atSeq: number): void {
    const replica = this.replicas.get(replicaId);
    if (!replica) return;
    copyWhenApplied(replica, atSeq)
      .then(({ text, seq }) => this.request({ type: 'replica.copyResult', replicaId, requestId, text, seq }))
      .catch((err: unknown) => log.debug({ err, replicaId }, 'copy request not answered'));
  }

  /** The document as a file at exactly `atSeq`; a replica that cannot export says why. */
  #answerExport(replicaId: string, requestId: string, atSeq: number, format: string): void {
    const replica = this.replicas.get(replicaId);
    if (!replica) return;
    // Fault mode: the hostile node forges documents as it forges snapshots.
    const doc = this.config.faultForgeSnapshots ? replica.forgedExport(atSeq, format) : replica.exportAt(atSeq, format);
    doc
      .then(
        (d) => ({ seq: d.seq, data: d.bytes.toString('base64') }),
        (err: unknown) => ({
          seq: atSeq,
          data: null,
          error: (err instanceof Error ? err.message : String(err)).slice(0, 500),
        }),
      )
      .then((answer) => this.request({ type: 'replica.exportResult', replicaId, requestId, ...answer }))
      .catch((err: unknown) => log.debug({ err, replicaId }, 'export request not answered'));
  }

  #reportAll(): void {
    // Standbys on every standbyStatusEvery-th tick (still well inside the server's stale bound).
    const standbysToo = this.#ticks % this.config.standbyStatusEvery === 0;
    for (const [id, replica] of this.replicas) if (standbysToo || replica.watched) this.#report(id);
  }

  #heartbeat(): void {
    if (!this.#socket?.connected || !this.#registered) return;
    const load = loadavg()[0] ?? 0;
    this.request({ type: 'node.heartbeat', load: Math.min(64, load / CORES) }).catch((err: unknown) =>
      log.debug({ err }, 'heartbeat failed'),
    );
  }

  /** Answers a snapshot checkpoint with the state at exactly `seq`. */
  #sendSnapshot(replicaId: string, seq: number): void {
    const replica = this.replicas.get(replicaId);
    if (!replica) return;
    replica
      .checkpointAt(seq)
      .then(async (snap) =>
        this.#uploadSnapshot(replicaId, this.config.faultForgeSnapshots ? await replica.forgedSnapshot() : snap),
      )
      .catch((err: unknown) => log.debug({ replicaId, seq, err }, 'snapshot checkpoint not answered'));
  }

  #uploadSnapshot(replicaId: string, snap: ReplicaSnapshot): Promise<void> {
    return this.request({
      type: 'replica.snapshot',
      replicaId,
      seq: snap.seq,
      stateHash: snap.stateHash,
      data: snap.data.toString('base64'),
    }).then(
      (res) => log.debug({ replicaId, seq: snap.seq, ...res }, 'snapshot sent'),
      (err: unknown) => log.warn({ replicaId, err }, 'snapshot refused'),
    );
  }

  /** Graceful leave: tell the server (so it re-places replicas), then close. */
  async leave(): Promise<void> {
    if (this.#socket?.connected) {
      await this.request({ type: 'node.leave' }).catch((err: unknown) => log.warn({ err }, 'leave failed'));
    }
    this.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#statusTimer);
    clearInterval(this.#traceTimer);
    this.#trace?.close();
    clearTimeout(this.#registerRetry);
    clearTimeout(this.#connectTimer);
    clearTimeout(this.#holdTimer);
    clearInterval(this.#serverListTimer);
    this.#thumbnails.close();
    for (const id of [...this.replicas.keys()]) this.#closeReplica(id);
    this.#starting.clear();
    this.#published.close();
    this.#linkWatch?.stop();
    this.#linkWatch = undefined;
    const socket = this.#socket;
    this.#socket = undefined;
    socket?.removeAllListeners();
    socket?.close();
  }
}
