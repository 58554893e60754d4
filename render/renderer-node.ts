// The renderer node: joins the server, hosts the replicas it is assigned, feeds
// them the input log and reports their applied seq and state hash. Closing the
// node closes its replicas (and their producers) before its socket.
import { io, type Socket } from 'socket.io-client';
import type { types as msc } from 'mediasoup-client';
import type { Result } from '../protocol/errors.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  NodeNotificationSchema,
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
import { AppVersionError } from './errors.js';
import { Replica, type ReplicaSnapshot } from './replica.js';
import type { App } from './app-types.js';
import { copyWhenApplied } from './copy-text.js';
import type { ReplicaApp } from './replica-app.js';
import { FrameTrace } from './frame-trace.js';
import { Thumbnailer } from './thumbnailer.js';
import type { ProducerSignalling } from './video-producer.js';

const log = getLogger('renderer-node');

export class NodeRequestError extends Error {
  constructor(
    readonly code: string,
    message: string,
    readonly request: string,
  ) {
    super(`${request}: ${code}: ${message}`);
    this.name = 'NodeRequestError';
  }
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

export class RendererNode extends TypedEmitter<RendererNodeEvents> {
  readonly config: RenderConfig;
  readonly #socket: NodeSocket;
  readonly replicas = new Map<string, Replica<unknown>>();
  readonly #thumbnails = new Thumbnailer({
    send: (replicaId, jpegBase64) => this.request({ type: 'replica.thumbnail', replicaId, jpegBase64 }),
    active: () => this.#socket.connected && this.#registered,
    onWork: (replicaId, startedAt, endedAt) => this.#trace?.busy('thumbnail', replicaId, startedAt, endedAt),
  });
  readonly #starting = new Set<string>();
  #statusTimer: NodeJS.Timeout | undefined;
  #ticks = 0;
  #registered = false;
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

  private constructor(config: RenderConfig, socket: NodeSocket, auth: { credential: string | undefined }) {
    super();
    this.config = config;
    this.#socket = socket;
    this.#auth = auth;
    this.#bundleCache = BundleCache.open(config.bundleCacheDir, config.bundleCacheBytes);
    if (config.traceDir) {
      const trace = FrameTrace.create(config.traceDir, config.nodeId);
      this.#trace = trace;
      this.#traceTimer = setInterval(() => {
        for (const [id, r] of this.replicas) {
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

  /** Connects and registers; resolves once the server accepted the node. */
  static async create(config: RenderConfig): Promise<RendererNode> {
    const auth: { credential: string | undefined } = { credential: undefined };
    const socket: NodeSocket = io(`${config.serverUrl}/node`, {
      // Evaluated at every (re)connect: the credential once we have one.
      auth: (cb) => cb({ token: auth.credential ?? config.joinToken ?? '' }),
      transports: ['websocket'],
      reconnectionDelay: 250,
      reconnectionDelayMax: 3000,
    });
    const node = new RendererNode(config, socket, auth);
    node.#wire();
    await new Promise<void>((resolve, reject) => {
      const fail = (err: Error) => {
        socket.off('connect_error', fail);
        reject(err);
      };
      node.once('registered', () => {
        socket.off('connect_error', fail);
        resolve();
      });
      socket.once('connect_error', fail);
    });
    return node;
  }

  #wire(): void {
    const socket = this.#socket;
    socket.on('connect', () => this.#tryRegister(0));
    socket.on('connect_error', (err) => {
      // A refused credential (revoked, expired, or a server with another
      // database): forget it and join again with the join token.
      if (this.#auth.credential !== undefined && !socket.active && !this.#closed) {
        log.warn({ err: err.message }, 'node credential refused; re-joining with the join token');
        this.#auth.credential = undefined;
        setTimeout(() => socket.connect(), 500);
      }
    });
    socket.on('disconnect', (reason) => {
      this.#registered = false;
      // After a server-side disconnect socket.io does not retry by itself.
      if (reason === 'io server disconnect' && !this.#closed) setTimeout(() => socket.connect(), 500);
      // The server forgets our replicas when we drop; ours are stale now.
      log.warn({ reason }, 'disconnected from server; closing replicas');
      for (const id of [...this.replicas.keys()]) this.#closeReplica(id);
      this.emit('disconnected', reason);
    });
    socket.on('notify', (raw: unknown) => this.#onNotify(raw));
    this.#statusTimer = setInterval(() => {
      this.#reportAll();
      if (++this.#ticks % Math.max(1, Math.round(1000 / this.config.statusIntervalMs)) === 0) this.#heartbeat();
    }, this.config.statusIntervalMs);
  }

  /** The host id the server admitted this node as (from its join token); undefined before registering. */
  get hostId(): string | undefined {
    return this.#hostId;
  }

  #tryRegister(attempt: number): void {
    this.#register().catch((err: unknown) => {
      // `conflict`: our previous connection is still registered (the server has
      // not noticed it died yet); retry until it has, while we stay connected.
      const retryable = err instanceof NodeRequestError && ['conflict', 'timeout', 'unavailable'].includes(err.code);
      if (retryable && this.#socket.connected && !this.#closed) {
        log.warn({ err: err.message, attempt }, 'register refused; retrying');
        this.#registerRetry = setTimeout(() => this.#tryRegister(attempt + 1), Math.min(5000, 250 * 2 ** attempt));
      } else {
        log.error({ err }, 'register failed');
      }
    });
  }

  async #register(): Promise<void> {
    const res = await this.request({
      type: 'node.register',
      nodeId: this.config.nodeId,
      hostId: this.config.hostId,
      apps: appCatalog(),
      ...(this.config.warmApps ? { warmApps: this.config.warmApps } : {}),
      appPolicy: this.config.appPolicy,
      bundles: this.#bundleCache.hashes().slice(0, LIMITS.maxAdvertisedBundles),
      capacity: { cores: Math.max(1, cpus().length), maxReplicas: this.config.maxReplicas },
    });
    if (res.credential) this.#auth.credential = res.credential;
    this.#hostId = res.hostId;
    this.#registered = true;
    log.info({ nodeId: this.config.nodeId, hostId: res.hostId }, 'registered');
    this.emit('registered');
  }

  request<T extends NodeRequest['type']>(msg: Extract<NodeRequest, { type: T }>): Promise<NodeResponses[T]> {
    return new Promise((resolve, reject) => {
      this.#socket.timeout(15_000).emit('request', msg, (err: Error | null, res: Result<unknown>) => {
        if (err) reject(new NodeRequestError('timeout', err.message, msg.type));
        else if (res.ok) resolve(res.data as NodeResponses[T]);
        else reject(new NodeRequestError(res.error.code, res.error.message, msg.type));
      });
    });
  }

  #onNotify(raw: unknown): void {
    const msg = parseNodeNotification(raw);
    if (!msg) return;
    switch (msg.type) {
      case 'replica.create':
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
        this.replicas.get(msg.replicaId)?.setWatched(msg.watched);
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
      log.warn({ replicaId: a.replicaId, app: a.app, reason }, 'refusing replica');
      await this.request({ type: 'replica.refuse', replicaId: a.replicaId, reason });
      return;
    }
    if (this.#closed || this.replicas.has(a.replicaId) || this.#starting.has(a.replicaId)) return;
    this.#starting.add(a.replicaId);
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
    };
    try {
      const replica = await Replica.create<unknown>({
        assignment: a,
        app,
        maxFps: this.config.maxFps,
        keepaliveMs: this.config.keepaliveMs,
        maxBitrate: this.config.maxBitrate,
        signalling,
        corruptAfter: this.config.faultCorruptAfter,
        fetchInputs: (fromSeq, toSeq) => this.request({ type: 'inputs.fetch', replicaId: a.replicaId, fromSeq, toSeq }),
        fetchSnapshot: async () => {
          const snap = await this.request({ type: 'snapshot.fetch', replicaId: a.replicaId });
          return snap && { seq: snap.seq, stateHash: snap.stateHash, data: Buffer.from(snap.data, 'base64') };
        },
      });
      if (this.#closed || !this.#starting.has(a.replicaId)) {
        replica.close();
        return;
      }
      this.replicas.set(a.replicaId, replica);
      this.#thumbnails.track(replica);
      replica.on('caughtup', () => this.#report(a.replicaId));
      const trace = this.#trace;
      if (trace) replica.on('frame', (frame, timing) => trace.frame(a.replicaId, frame.seq, timing));
      replica.on('failed', (err) => {
        log.warn({ replicaId: a.replicaId, err }, 'replica failed (video or app); closing it');
        this.#closeReplica(a.replicaId);
      });
      log.info({ replicaId: a.replicaId, sessionId: a.sessionId, producerId: replica.producerId }, 'replica started');
      this.emit('replicaadded', a.replicaId);
      this.#report(a.replicaId);
    } catch (err) {
      const reason = err instanceof Error ? err.message : String(err);
      if (this.#socket.connected && !this.#closed) {
        await this.request({ type: 'replica.refuse', replicaId: a.replicaId, reason }).catch(() => undefined);
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
      throw new AppVersionError(
        `app bundle ${ref.name}@${ref.hash} is not allowed on this node (--apps ${this.config.appPolicy.kind})`,
        {},
      );
    }
    return this.#published.load(ref);
  }

  #closeReplica(replicaId: string): void {
    this.#starting.delete(replicaId);
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
    if (!replica || !this.#socket.connected) return;
    replica
      .status()
      .then((status) => {
        // Fault injection (tests of the server's defences): once it holds some state, push a forged snapshot nobody asked for.
        if (this.config.faultForgeSnapshots && status.appliedSeq > 0 && !this.#forgedPushed.has(replicaId)) {
          this.#forgedPushed.add(replicaId);
          void replica.forgedSnapshot().then((snap) => this.#uploadSnapshot(replicaId, snap));
        }
        return this.request({ type: 'replica.status', replicaId, ...status });
      })
      .then(
        (res) => replica.noteHead(res.headSeq),
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
    for (const id of this.replicas.keys()) this.#report(id);
  }

  #heartbeat(): void {
    if (!this.#socket.connected || !this.#registered) return;
    const load = loadavg()[0] ?? 0;
    this.request({ type: 'node.heartbeat', load: Math.min(64, load / Math.max(1, cpus().length)) }).catch(
      (err: unknown) => log.debug({ err }, 'heartbeat failed'),
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
    if (this.#socket.connected) {
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
    this.#thumbnails.close();
    for (const id of [...this.replicas.keys()]) this.#closeReplica(id);
    this.#starting.clear();
    this.#published.close();
    this.#socket.close();
  }
}
