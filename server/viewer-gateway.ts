// The viewers' socket.io namespace (/viewer): session list and lifecycle,
// joining a session, receive transports and consumers for every replica
// stream, share links, and the input path into the sequencer. Every connection
// carries an identity from the handshake; nothing is served without one.
import type { types } from 'mediasoup';
import type { Namespace, Socket } from 'socket.io';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  ViewerRequestSchema,
  type ShareRole,
  type ViewerRequest,
  type ViewerResponses,
  type ViewerServerToClient,
} from '../protocol/signalling.js';
import { APP_TITLES } from '../render/app-catalog.js';
import type { BundleStore } from './bundle-store.js';
import { scopedClientId, type ViewerIdentity } from './access.js';
import { BadRequestError, ClosedError, ForbiddenError, NotFoundError, RateLimitedError } from './errors.js';
import { TokenBucket } from './rate-limit.js';
import { SocketGateway, type GatewayClientToServer } from './socket-gateway.js';
import type { SessionManager } from './session-manager.js';
import type { Sfu } from './sfu.js';
import type { Issued } from './token-store.js';
import type { ClipboardRelay } from './clipboard-relay.js';

export type { ViewerIdentity } from './access.js';

const log = getLogger('viewer-gateway');

type ViewerSocket = Socket<GatewayClientToServer, ViewerServerToClient>;
type ViewerNamespace = Namespace<GatewayClientToServer, ViewerServerToClient>;

export interface ViewerGatewayDeps {
  manager: SessionManager;
  sfu: Sfu;
  /** Maps the handshake token to an identity; null refuses the connection. */
  authenticate: (token: string) => Promise<ViewerIdentity | null>;
  /** Is this credential still valid (not revoked, not expired)? */
  isActive: (tokenId: string) => Promise<boolean>;
  /** Mints a share link token for a session the identity may see. */
  createShare: (identity: ViewerIdentity, sessionId: string, role: ShareRole, ttlSeconds: number) => Promise<Issued>;
  /** Copy out of the app (asks a live replica's node); without it `clipboard.copy` is refused. */
  clipboard?: ClipboardRelay;
  /** Published apps, offered in the app picker (latest version of each name) after the built-in ones. */
  bundles?: BundleStore;
}

/** How often live connections are re-checked against revocations made elsewhere (CLI, another token). */
const REVALIDATE_EVERY_MS = 10_000;
const HOST_HEADER = /^[A-Za-z0-9.-]{1,253}(:\d{1,5})?$|^\[[0-9A-Fa-f:.]{2,45}\](:\d{1,5})?$/;

const room = (sessionId: string) => `session:${sessionId}`;

export class ViewerGateway extends SocketGateway<ViewerIdentity, ViewerRequest, ViewerServerToClient> {
  readonly #deps: ViewerGatewayDeps;

  constructor(nsp: ViewerNamespace, deps: ViewerGatewayDeps) {
    super(nsp, {
      authenticate: deps.authenticate,
      field: 'identity',
      refusal: 'unauthorized: a valid token or share link is required',
      schema: ViewerRequestSchema,
      requestsPerSecond: LIMITS.maxRequestsPerSecondPerViewer,
      // Revocations made outside this process's REST handlers (the offline CLI)
      // and plain expiry still end live connections within a few seconds.
      revalidateEveryMs: REVALIDATE_EVERY_MS,
      log,
    });
    this.#deps = deps;
    deps.manager.on('sessionupdate', (session) => {
      nsp.to(room(session.sessionId)).emit('notify', { type: 'session.update', session });
    });
    deps.manager.on('selection', (n) => {
      nsp.to(room(n.sessionId)).emit('notify', { type: 'selection.geometry', ...n });
    });
    deps.manager.on('sessionclosed', ({ sessionId, reason }) => {
      nsp.to(room(sessionId)).emit('notify', { type: 'session.closed', sessionId, reason });
    });
  }

  protected connect(socket: ViewerSocket, identity: ViewerIdentity): ViewerConnection {
    return new ViewerConnection(socket, identity, this.#deps);
  }

  protected credentialIds(_socket: ViewerSocket, identity: ViewerIdentity): string[] {
    return [identity.tokenId];
  }

  protected stillValid(identity: ViewerIdentity, now: number): boolean | Promise<boolean> {
    return now < identity.expiresAt && this.#deps.isActive(identity.tokenId);
  }

  protected override expired(identity: ViewerIdentity, now: number): boolean {
    return now >= identity.expiresAt;
  }

  get namespace(): ViewerNamespace {
    return this.nsp;
  }
}

/** One connected viewer: the session it joined, its transports and consumers. */
/** What a viewer creates on the SFU with a per-viewer limit. */
type PendingKind = 'transports' | 'consumers' | 'dataConsumers';

class ViewerConnection {
  readonly #socket: ViewerSocket;
  readonly #identity: ViewerIdentity;
  readonly #deps: ViewerGatewayDeps;
  readonly #transports = new Map<string, types.WebRtcTransport>();
  readonly #consumers = new Map<string, types.Consumer>();
  // Slots taken by creations still waiting on mediasoup: the limits count them, so a burst cannot pass the check together.
  readonly #pending: Record<PendingKind, number> = { transports: 0, consumers: 0, dataConsumers: 0 };
  /** Leaves per session of this connection: the client seq of its next release-all there. */
  readonly #leaves = new Map<string, number>();
  /** Display channels (tile display) this viewer consumes. */
  readonly #dataConsumers = new Map<string, types.DataConsumer>();
  #sessionId: string | undefined;
  #clientId: string | undefined;
  // Inputs have their own, tighter bucket than requests in general.
  readonly #inputs = new TokenBucket(LIMITS.maxInputsPerSecondPerViewer, 'inputs');
  /** Each display channel opened costs its node a whole frame: few per second, each started once. */
  readonly #tileStarts = new TokenBucket(LIMITS.maxTileStartsPerSecondPerViewer, 'display channels');
  readonly #tilesStarted = new Set<string>();

  constructor(socket: ViewerSocket, identity: ViewerIdentity, deps: ViewerGatewayDeps) {
    this.#socket = socket;
    this.#identity = identity;
    this.#deps = deps;
  }

  #canSee(sessionId: string): void {
    const id = this.#identity;
    const session = this.#deps.manager.get(sessionId);
    if (id.sessionId ? id.sessionId !== sessionId : session.meta.owner !== id.owner) {
      // Same answer as a missing session: no probing for other people's ids.
      throw new NotFoundError(`no session ${sessionId}`, { sessionId });
    }
  }

  #joined(sessionId: string): void {
    if (this.#sessionId !== sessionId) throw new ForbiddenError(`not joined to session ${sessionId}`, { sessionId });
  }

  /** Absolute link for a share token, from the Host this viewer reached us by (relative if unusable). */
  #shareUrl(sessionId: string, token: string): string {
    const q = `/?session=${encodeURIComponent(sessionId)}&token=${encodeURIComponent(token)}`;
    const host = this.#socket.handshake.headers.host;
    if (typeof host !== 'string' || !HOST_HEADER.test(host)) return q;
    return `${this.#socket.handshake.secure ? 'https' : 'http'}://${host}${q}`;
  }

  async handle(msg: ViewerRequest): Promise<ViewerResponses[ViewerRequest['type']]> {
    const { manager, sfu } = this.#deps;
    switch (msg.type) {
      case 'sessions.list': {
        const id = this.#identity;
        const sessions = manager
          .list()
          .filter((s) =>
            id.sessionId ? s.sessionId === id.sessionId : manager.get(s.sessionId).meta.owner === id.owner,
          );
        return { sessions };
      }
      case 'apps.list': {
        const builtin = manager.apps().map((a) => ({ ...a, title: APP_TITLES[a.name] ?? a.name }));
        // By name, a create resolves to the highest version: list exactly that one.
        const latest = new Map((this.#deps.bundles?.list() ?? []).map((a) => [a.name, a]));
        const published = [...latest.values()].map((a) => ({
          name: a.name,
          hash: a.hash,
          title: `${a.title} ${a.version}`,
        }));
        return { apps: [...builtin, ...published] };
      }
      case 'ping':
        return { ok: true };
      case 'sessions.create': {
        if (this.#identity.role !== 'control' || this.#identity.sessionId) {
          throw new ForbiddenError('this credential cannot create sessions', {});
        }
        const session = await manager.createSession({
          owner: this.#identity.owner,
          app: msg.app,
          replicationFactor: msg.replicationFactor,
          width: msg.width,
          height: msg.height,
        });
        return { session };
      }
      case 'sessions.close': {
        this.#canSee(msg.sessionId);
        if (this.#identity.role !== 'control' || this.#identity.sessionId) {
          throw new ForbiddenError('this credential cannot close sessions', {});
        }
        await manager.closeSession(msg.sessionId);
        return { closed: true };
      }
      case 'session.join': {
        this.#canSee(msg.sessionId);
        if (this.#sessionId && this.#sessionId !== msg.sessionId) this.#leave();
        this.#sessionId = msg.sessionId;
        this.#clientId = scopedClientId(this.#identity, msg.clientId);
        await this.#socket.join(room(msg.sessionId));
        // A fresh health view for the newcomer: every replica reports now, not at its next tick.
        manager.requestStatus(msg.sessionId);
        const router = await sfu.router(msg.sessionId);
        if (!manager.sessions.has(msg.sessionId)) {
          // Closed while this join waited: the router just made for it would never be closed otherwise.
          await sfu.closeRouter(msg.sessionId);
          throw new NotFoundError(`session ${msg.sessionId} has closed`, { sessionId: msg.sessionId });
        }
        return {
          session: manager.info(msg.sessionId),
          routerRtpCapabilities: router.rtpCapabilities,
          lastClientSeq: await manager.lastClientSeq(msg.sessionId, this.#clientId),
          role: this.#identity.role,
        };
      }
      case 'session.leave': {
        this.#joined(msg.sessionId);
        this.#leave();
        return { left: true };
      }
      case 'transport.create': {
        this.#joined(msg.sessionId);
        if (this.#transports.size + this.#pending.transports >= LIMITS.maxTransportsPerViewer) {
          throw new RateLimitedError(`at most ${LIMITS.maxTransportsPerViewer} transports per viewer`, {});
        }
        const transport = await this.#whilePending('transports', () =>
          sfu.createWebRtcTransport(msg.sessionId, { viewer: this.#socket.id }, msg.sctp === true),
        );
        if (this.#sessionId !== msg.sessionId) {
          // Left (or disconnected) while it was made: nobody would ever close it.
          transport.close();
          throw new ClosedError('left the session while its transport was being made', { sessionId: msg.sessionId });
        }
        this.#transports.set(transport.id, transport);
        transport.observer.on('close', () => this.#transports.delete(transport.id));
        return {
          id: transport.id,
          iceParameters: transport.iceParameters,
          iceCandidates: transport.iceCandidates,
          dtlsParameters: transport.dtlsParameters,
          ...(transport.sctpParameters ? { sctpParameters: transport.sctpParameters } : {}),
        };
      }
      case 'tiles.consume':
        return this.#consumeTiles(msg);
      case 'tiles.start': {
        const dc = this.#dataConsumer(msg.dataConsumerId);
        if (this.#tilesStarted.has(dc.id)) throw new BadRequestError('display channel already started', {});
        this.#tilesStarted.add(dc.id);
        const producerId = (dc.appData as { producerId?: string }).producerId;
        // While its display channel is open the replica is watched: its node renders (the video may be paused).
        if (producerId) sfu.watchers.consumerOpened(dc.id, producerId, true);
        sfu.tileWatchers.consumerOpened(dc.id, dc.dataProducerId, true);
        sfu.tilesWanted(dc.dataProducerId);
        return { started: true };
      }
      case 'tiles.close': {
        this.#dataConsumer(msg.dataConsumerId).close();
        return { closed: true };
      }
      case 'transport.connect': {
        await this.#transport(msg.transportId).connect({ dtlsParameters: msg.dtlsParameters });
        return { connected: true };
      }
      case 'consume':
        return this.#consume(msg);
      case 'consumer.resume': {
        const consumer = this.#consumer(msg.consumerId);
        await consumer.resume();
        if (msg.keyFrame) await consumer.requestKeyFrame();
        return { resumed: true };
      }
      case 'consumer.pause': {
        await this.#consumer(msg.consumerId).pause();
        return { paused: true };
      }
      case 'consumer.close': {
        this.#consumer(msg.consumerId).close();
        this.#consumers.delete(msg.consumerId);
        return { closed: true };
      }
      case 'input': {
        this.#joined(msg.sessionId);
        if (this.#identity.role !== 'control') {
          throw new ForbiddenError('view-only viewers cannot send input', { sessionId: msg.sessionId });
        }
        if (!this.#clientId) throw new ForbiddenError('join the session first', {});
        this.#inputs.take();
        return manager.submitInput(msg.sessionId, this.#clientId, msg.clientSeq, msg.event);
      }
      case 'share.create': {
        this.#canSee(msg.sessionId);
        const issued = await this.#deps.createShare(
          this.#identity,
          msg.sessionId,
          msg.role,
          msg.ttlSeconds ?? LIMITS.defaultShareTtlSeconds,
        );
        log.info({ sessionId: msg.sessionId, role: msg.role, tokenId: issued.id }, 'share link created');
        return {
          id: issued.id,
          sessionId: msg.sessionId,
          role: msg.role,
          token: issued.secret,
          url: this.#shareUrl(msg.sessionId, issued.secret),
          expiresAt: issued.expiresAt,
        };
      }
      case 'clipboard.copy': {
        // Anyone who may watch may copy what they see (view-only links too).
        this.#joined(msg.sessionId);
        if (!this.#deps.clipboard) throw new BadRequestError('copy is not enabled on this server', {});
        return this.#deps.clipboard.copy(msg.sessionId, msg.atSeq, msg.replicaId);
      }
      default: {
        const never: never = msg;
        throw new BadRequestError('unknown request', { msg: never });
      }
    }
  }

  async #consume(msg: Extract<ViewerRequest, { type: 'consume' }>): Promise<ViewerResponses['consume']> {
    const sessionId = this.#sessionId;
    if (!sessionId) throw new ForbiddenError('join a session first', {});
    const session = this.#deps.manager.get(sessionId);
    const replica = [...session.replicas.values()].find((r) => r.producerId === msg.producerId);
    if (!replica) throw new NotFoundError(`no stream ${msg.producerId} in session ${sessionId}`, { sessionId });
    const transport = this.#transport(msg.transportId);
    if (this.#consumers.size + this.#pending.consumers >= LIMITS.maxConsumersPerViewer) {
      throw new RateLimitedError(`at most ${LIMITS.maxConsumersPerViewer} consumers per viewer`, {});
    }
    const consumer = await this.#whilePending('consumers', async () => {
      const router = await this.#deps.sfu.router(sessionId);
      const rtpCapabilities = msg.rtpCapabilities as types.RtpCapabilities;
      if (!router.canConsume({ producerId: msg.producerId, rtpCapabilities })) {
        throw new BadRequestError('cannot consume this stream with these capabilities', { producerId: msg.producerId });
      }
      return transport.consume({ producerId: msg.producerId, rtpCapabilities, paused: msg.paused });
    });
    if (consumer.closed || this.#transports.get(msg.transportId) !== transport) {
      consumer.close();
      throw new ClosedError('the transport closed while the stream was being consumed', {
        transportId: msg.transportId,
      });
    }
    this.#consumers.set(consumer.id, consumer);
    const replicaId = replica.replicaId;
    consumer.on('producerclose', () => {
      this.#consumers.delete(consumer.id);
      this.#socket.emit('notify', {
        type: 'consumer.closed',
        consumerId: consumer.id,
        replicaId,
        reason: 'producer closed',
      });
    });
    consumer.on('transportclose', () => this.#consumers.delete(consumer.id));
    consumer.on('score', (score: types.ConsumerScore) => {
      this.#socket.emit('notify', {
        type: 'consumer.score',
        consumerId: consumer.id,
        score: score.score,
        producerScore: score.producerScore,
      });
    });
    return {
      id: consumer.id,
      producerId: msg.producerId,
      kind: consumer.kind,
      rtpParameters: consumer.rtpParameters,
      replicaId,
    };
  }

  #transport(id: string): types.WebRtcTransport {
    const t = this.#transports.get(id);
    if (!t) throw new NotFoundError(`no transport ${id}`, { transportId: id });
    return t;
  }

  /** Runs `make` with one slot of `kind` counted as pending until it settles. */
  async #whilePending<T>(kind: PendingKind, make: () => Promise<T>): Promise<T> {
    this.#pending[kind]++;
    try {
      return await make();
    } finally {
      this.#pending[kind]--;
    }
  }

  /** A replica's display channel, on one of this viewer's transports opened with SCTP. */
  async #consumeTiles(
    msg: Extract<ViewerRequest, { type: 'tiles.consume' }>,
  ): Promise<ViewerResponses['tiles.consume']> {
    const sessionId = this.#sessionId;
    if (!sessionId) throw new ForbiddenError('join a session first', {});
    const { manager, sfu } = this.#deps;
    if (!sfu.tileDisplay) throw new BadRequestError('the tile display is not enabled on this server', {});
    const replica = manager.get(sessionId).replicas.get(msg.replicaId);
    const dataProducer = replica ? manager.dataProducerOf(msg.replicaId) : null;
    if (!replica || !dataProducer) {
      throw new NotFoundError(`no display channel of replica ${msg.replicaId} here`, { sessionId });
    }
    const transport = this.#transport(msg.transportId);
    if (!transport.sctpParameters) throw new BadRequestError('the transport was opened without SCTP', {});
    if (this.#dataConsumers.size + this.#pending.dataConsumers >= LIMITS.maxConsumersPerViewer) {
      throw new RateLimitedError(`at most ${LIMITS.maxConsumersPerViewer} display channels per viewer`, {});
    }
    this.#tileStarts.take();
    const dc = await this.#whilePending('dataConsumers', () =>
      transport.consumeData({
        dataProducerId: dataProducer.id,
        appData: { replicaId: msg.replicaId, producerId: replica.producerId },
      }),
    );
    if (dc.closed || this.#transports.get(msg.transportId) !== transport) {
      // The transport closed meanwhile (a leave, a disconnect): mediasoup still hands over a channel, one that
      // transport's close never reached. Kept, its tiles.start would hold the replica watched for good.
      dc.close();
      throw new ClosedError('the transport closed while the display channel was being consumed', {
        transportId: msg.transportId,
      });
    }
    this.#dataConsumers.set(dc.id, dc);
    dc.observer.on('close', () => {
      this.#dataConsumers.delete(dc.id);
      this.#tilesStarted.delete(dc.id);
      sfu.watchers.consumerClosed(dc.id);
      sfu.tileWatchers.consumerClosed(dc.id);
    });
    return {
      id: dc.id,
      dataProducerId: dataProducer.id,
      sctpStreamParameters: dc.sctpStreamParameters,
      label: dc.label,
      replicaId: msg.replicaId,
    };
  }

  #dataConsumer(id: string): types.DataConsumer {
    const c = this.#dataConsumers.get(id);
    if (!c) throw new NotFoundError(`no display channel ${id}`, { dataConsumerId: id });
    return c;
  }

  #consumer(id: string): types.Consumer {
    const c = this.#consumers.get(id);
    if (!c) throw new NotFoundError(`no consumer ${id}`, { consumerId: id });
    return c;
  }

  #leave(): void {
    const sessionId = this.#sessionId;
    if (!sessionId) return;
    // Keys this viewer held must not stay down on any replica. One server-made
    // client id per connection, numbered per session, so each leave's release is logged once
    // (a connection may leave a session, come back, and leave it again).
    if (this.#clientId && this.#identity.role === 'control' && this.#deps.manager.sessions.has(sessionId)) {
      const clientSeq = this.#leaves.get(sessionId) ?? 0;
      this.#leaves.set(sessionId, clientSeq + 1);
      this.#deps.manager
        .submitInput(sessionId, `srv-leave-${this.#socket.id}`, clientSeq, { type: 'release-all' })
        .catch((err: unknown) => log.debug({ err }, 'release-all on leave failed'));
    }
    void this.#socket.leave(room(sessionId));
    for (const t of this.#transports.values()) t.close();
    this.#transports.clear();
    this.#consumers.clear();
    this.#dataConsumers.clear();
    this.#sessionId = undefined;
  }

  close(): void {
    this.#leave();
  }
}
