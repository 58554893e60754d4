// The viewers' socket.io namespace (/viewer): session list and lifecycle,
// joining a session, receive transports and consumers for every replica
// stream, and the input path into the sequencer.
import type { types } from 'mediasoup';
import type { Namespace, Socket } from 'socket.io';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  ViewerRequestSchema,
  type ViewerClientToServer,
  type ViewerRequest,
  type ViewerResponses,
  type ViewerServerToClient,
} from '../protocol/signalling.js';
import { APP_TITLES } from '../render/app-catalog.js';
import { BadRequestError, ForbiddenError, NotFoundError, RateLimitedError } from './errors.js';
import { dispatcher } from './request-dispatch.js';
import type { SessionManager } from './session-manager.js';
import type { Sfu } from './sfu.js';

const log = getLogger('viewer-gateway');

type ViewerSocket = Socket<ViewerClientToServer, ViewerServerToClient>;
type ViewerNamespace = Namespace<ViewerClientToServer, ViewerServerToClient>;

export interface ViewerIdentity {
  owner: string;
  /** `view` may watch but never send input. */
  role: 'control' | 'view';
  /** When set, the credential is limited to this one session (share links). */
  sessionId?: string;
}

export interface ViewerGatewayDeps {
  manager: SessionManager;
  sfu: Sfu;
  /** Maps the handshake token to an identity; null refuses the connection. */
  authenticate: (token: string) => ViewerIdentity | null;
}

const room = (sessionId: string) => `session:${sessionId}`;

export class ViewerGateway {
  readonly #nsp: ViewerNamespace;
  readonly #deps: ViewerGatewayDeps;

  constructor(nsp: ViewerNamespace, deps: ViewerGatewayDeps) {
    this.#nsp = nsp;
    this.#deps = deps;
    nsp.use((socket, next) => {
      const token: unknown = socket.handshake.auth.token;
      const identity = deps.authenticate(typeof token === 'string' ? token : '');
      if (!identity) {
        next(new Error('unauthorized: a valid token or share link is required'));
        return;
      }
      (socket.data as { identity?: ViewerIdentity }).identity = identity;
      next();
    });
    nsp.on('connection', (socket) => this.#onConnection(socket));
    deps.manager.on('sessionupdate', (session) => {
      nsp.to(room(session.sessionId)).emit('notify', { type: 'session.update', session });
    });
    deps.manager.on('sessionclosed', ({ sessionId, reason }) => {
      nsp.to(room(sessionId)).emit('notify', { type: 'session.closed', sessionId, reason });
    });
  }

  #onConnection(socket: ViewerSocket): void {
    const identity = (socket.data as { identity: ViewerIdentity }).identity;
    const conn = new ViewerConnection(socket, identity, this.#deps);
    socket.on(
      'request',
      dispatcher(ViewerRequestSchema, log, (msg: ViewerRequest) => conn.handle(msg)),
    );
    socket.on('disconnect', () => conn.close());
  }

  get namespace(): ViewerNamespace {
    return this.#nsp;
  }
}

/** One connected viewer: the session it joined, its transports and consumers. */
class ViewerConnection {
  readonly #socket: ViewerSocket;
  readonly #identity: ViewerIdentity;
  readonly #deps: ViewerGatewayDeps;
  readonly #transports = new Map<string, types.WebRtcTransport>();
  readonly #consumers = new Map<string, types.Consumer>();
  #sessionId: string | undefined;
  #clientId: string | undefined;
  // Token bucket for inputs: bounded per viewer, refilled continuously.
  #tokens: number = LIMITS.maxInputsPerSecondPerViewer;
  #refilledAt = Date.now();

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

  #takeToken(): void {
    const now = Date.now();
    const rate = LIMITS.maxInputsPerSecondPerViewer;
    this.#tokens = Math.min(rate, this.#tokens + ((now - this.#refilledAt) / 1000) * rate);
    this.#refilledAt = now;
    if (this.#tokens < 1) throw new RateLimitedError(`more than ${rate} inputs per second`, { rate });
    this.#tokens -= 1;
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
      case 'apps.list':
        return { apps: manager.apps().map((a) => ({ ...a, title: APP_TITLES[a.name] ?? a.name })) };
      case 'sessions.create': {
        if (this.#identity.role !== 'control' || this.#identity.sessionId) {
          throw new ForbiddenError('this credential cannot create sessions', {});
        }
        const session = manager.createSession({
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
        this.#clientId = msg.clientId;
        await this.#socket.join(room(msg.sessionId));
        const router = await sfu.router(msg.sessionId);
        return {
          session: manager.info(msg.sessionId),
          routerRtpCapabilities: router.rtpCapabilities,
          lastClientSeq: manager.lastClientSeq(msg.sessionId, msg.clientId),
        };
      }
      case 'session.leave': {
        this.#joined(msg.sessionId);
        this.#leave();
        return { left: true };
      }
      case 'transport.create': {
        this.#joined(msg.sessionId);
        const transport = await sfu.createWebRtcTransport(msg.sessionId, { viewer: this.#socket.id });
        this.#transports.set(transport.id, transport);
        transport.observer.on('close', () => this.#transports.delete(transport.id));
        return {
          id: transport.id,
          iceParameters: transport.iceParameters,
          iceCandidates: transport.iceCandidates,
          dtlsParameters: transport.dtlsParameters,
        };
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
        this.#takeToken();
        return manager.submitInput(msg.sessionId, this.#clientId, msg.clientSeq, msg.event);
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
    const replica = [...session.replicas.values()].find((r) => r.producer?.id === msg.producerId);
    if (!replica) throw new NotFoundError(`no stream ${msg.producerId} in session ${sessionId}`, { sessionId });
    const transport = this.#transport(msg.transportId);
    const router = await this.#deps.sfu.router(sessionId);
    const rtpCapabilities = msg.rtpCapabilities as types.RtpCapabilities;
    if (!router.canConsume({ producerId: msg.producerId, rtpCapabilities })) {
      throw new BadRequestError('cannot consume this stream with these capabilities', { producerId: msg.producerId });
    }
    const consumer = await transport.consume({ producerId: msg.producerId, rtpCapabilities, paused: msg.paused });
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

  #consumer(id: string): types.Consumer {
    const c = this.#consumers.get(id);
    if (!c) throw new NotFoundError(`no consumer ${id}`, { consumerId: id });
    return c;
  }

  #leave(): void {
    const sessionId = this.#sessionId;
    if (!sessionId) return;
    // Keys this viewer held must not stay down on any replica. One server-made
    // client id per connection, so the release is logged exactly once.
    if (this.#clientId && this.#identity.role === 'control' && this.#deps.manager.sessions.has(sessionId)) {
      this.#deps.manager
        .submitInput(sessionId, `srv-leave-${this.#socket.id}`, 0, { type: 'release-all' })
        .catch((err: unknown) => log.debug({ err }, 'release-all on leave failed'));
    }
    void this.#socket.leave(room(sessionId));
    for (const t of this.#transports.values()) t.close();
    this.#transports.clear();
    this.#consumers.clear();
    this.#sessionId = undefined;
  }

  close(): void {
    this.#leave();
  }
}
