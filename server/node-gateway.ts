// The renderer nodes' socket.io namespace (/node): registration, the media
// path for their replicas (send transports, producers), status and input
// fetches. A node acts only on the replicas assigned to it. It connects with
// the cluster join token once, is handed its own credential (bound to its
// node id) at registration and reconnects with that.
import type { types } from 'mediasoup';
import type { Namespace, Socket } from 'socket.io';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  NodeRequestSchema,
  type NodeClientToServer,
  type NodeRequest,
  type NodeResponses,
  type NodeServerToClient,
  type HeldReplica,
  type NodeNotification,
} from '../protocol/signalling.js';
import { SHARED_ADMISSION, type NodeAdmission, type NodeAuth } from './access.js';
import {
  BadRequestError,
  ClosedError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  NotRegisteredError,
} from './errors.js';
import type { BundleStore } from './bundle-store.js';
import { DEFAULT_APP_POLICY } from '../protocol/bundle.js';
import type { RegisteredNode } from './node-port.js';
import type { ReplicaTickets } from './replica-tickets.js';
import { SocketGateway, type GatewayClientToServer } from './socket-gateway.js';
import type { SessionManager } from './session-manager.js';
import type { Sfu } from './sfu.js';
import { isThumbnailJpeg, type ThumbnailStore } from './thumbnails.js';
import type { ClipboardRelay } from './clipboard-relay.js';
import type { ExportRelay } from './export-relay.js';

const log = getLogger('node-gateway');

type NodeSocket = Socket<GatewayClientToServer, NodeServerToClient>;

export interface NodeGatewayDeps {
  manager: SessionManager;
  sfu: Sfu;
  /** The join token or a node credential from the handshake; null refuses the connection. */
  authenticate: (token: string) => Promise<NodeAuth | null>;
  /** A fresh credential for a node that joined with a join token, carrying its admission along. */
  issueCredential: (
    nodeId: string,
    admission: NodeAdmission,
    hostId: string,
  ) => Promise<{ secret: string; expiresAt: number; id: string }>;
  /** Is this node credential still valid? */
  isActive: (tokenId: string) => Promise<boolean>;
  /** Where replica thumbnails go (the session list's previews); without it they are dropped. */
  thumbnails?: ThumbnailStore;
  /** Signs each placement for the node (replica.create) and checks what a node claims back at registration. */
  tickets: ReplicaTickets;
  /** Pending copy-out-of-the-app requests the nodes answer. */
  clipboard?: ClipboardRelay;
  exports?: ExportRelay;
  /** Published app bundles nodes fetch (`bundle.fetch`). */
  bundles?: BundleStore;
}

const REVALIDATE_EVERY_MS = 10_000;

/** Host-token admissions can be revoked; the development-mode shared one cannot. */
function isRevocable(admissionId: string): boolean {
  return admissionId !== SHARED_ADMISSION;
}

export class NodeGateway extends SocketGateway<NodeAuth, NodeRequest, NodeServerToClient> {
  readonly #deps: NodeGatewayDeps;

  constructor(nsp: Namespace<NodeClientToServer, NodeServerToClient>, deps: NodeGatewayDeps) {
    super(nsp, {
      authenticate: deps.authenticate,
      field: 'auth',
      refusal: 'unauthorized: a valid cluster join token or node credential is required',
      schema: NodeRequestSchema,
      requestsPerSecond: LIMITS.maxRequestsPerSecondPerNode,
      revalidateEveryMs: REVALIDATE_EVERY_MS,
      log,
    });
    this.#deps = deps;
  }

  protected connect(socket: NodeSocket, auth: NodeAuth): NodeConnection {
    return new NodeConnection(socket, auth, this.#deps);
  }

  protected credentialIds(socket: NodeSocket, auth: NodeAuth): Array<string | null | undefined> {
    const credentialId = (socket.data as { credentialId?: string }).credentialId;
    return [auth.tokenId, credentialId, auth.admission.admissionId];
  }

  protected stillValid(auth: NodeAuth, now: number): boolean | Promise<boolean> {
    if (!auth.tokenId) return true;
    if (now >= auth.expiresAt) return false;
    const parent = auth.admission.admissionId;
    // A revoked host token ends its nodes too, whatever they connected with.
    const checkParent = auth.via === 'credential' && parent !== auth.tokenId && isRevocable(parent);
    return Promise.all([this.#deps.isActive(auth.tokenId), checkParent ? this.#deps.isActive(parent) : true]).then(
      ([active, parentActive]) => active && parentActive,
    );
  }
}

/** One connected renderer node and the transports it opened. */
class NodeConnection {
  readonly #socket: NodeSocket;
  readonly #auth: NodeAuth;
  readonly #deps: NodeGatewayDeps;
  readonly #transports = new Map<string, types.WebRtcTransport>();
  /** One function per connection (the manager tells a re-registration on this socket from a newer connection by it). */
  readonly #cut = (reason: string): void => {
    log.warn({ nodeId: this.#nodeId, reason }, 'disconnecting node');
    this.#nodeId = undefined;
    this.#socket.disconnect(true);
  };
  /** Transports that carry (or are getting) their one producer: a node never needs a second on the same one. */
  readonly #produced = new Set<string>();
  /** Replicas whose display channel is being made (produceData awaiting mediasoup). */
  readonly #producingData = new Set<string>();
  /** A node.register of this connection is being handled (a second one at once is refused). */
  #registering = false;
  #nodeId: string | undefined;

  constructor(socket: NodeSocket, auth: NodeAuth, deps: NodeGatewayDeps) {
    this.#socket = socket;
    this.#auth = auth;
    this.#deps = deps;
  }

  /**
   * Which node id this connection may register as, on which host, and the
   * credential to hand out. A credential is bound to its node id; a join token
   * may not take over a node id that is live (that node reconnects with its
   * credential). The host id is the operator's (from the host token), never the
   * node's, except in the shared-token development mode.
   */
  async #admit(
    nodeId: string,
    claimedHostId: string,
  ): Promise<{ hostId: string; credential?: string; credentialExpiresAt?: number }> {
    const admission = this.#auth.admission;
    const hostId = admission.hostId ?? claimedHostId;
    if (admission.hostId !== null && claimedHostId !== admission.hostId) {
      log.info({ nodeId, claimedHostId, hostId }, 'node claimed another host id; using the one its token admits');
    }
    if (this.#auth.via === 'credential') {
      if (this.#auth.nodeId !== nodeId) {
        throw new ForbiddenError(`this credential belongs to node ${this.#auth.nodeId}`, { nodeId });
      }
      return { hostId };
    }
    if (this.#nodeId === nodeId) return { hostId };
    if (this.#deps.manager.nodes.get(nodeId)) {
      throw new ConflictError(`node ${nodeId} is registered and connected; retry once it is gone`, { nodeId });
    }
    const issued = await this.#deps.issueCredential(nodeId, admission, hostId);
    (this.#socket.data as { credentialId?: string }).credentialId = issued.id;
    return { hostId, credential: issued.secret, credentialExpiresAt: issued.expiresAt };
  }

  /** A placement, with the ticket that lets this admission claim the replica back after a server death. */
  #ticketed(n: Extract<NodeNotification, { type: 'replica.create' }>, admissionId: string): NodeNotification {
    const { replicaId, sessionId, app } = n.assignment;
    return { ...n, ticket: this.#deps.tickets.issue({ sessionId, replicaId, admissionId, appHash: app.hash }) };
  }

  /** Held replicas whose ticket a server issued to this very admission; the others are not even considered. */
  #ticketedClaims(held: readonly HeldReplica[], admissionId: string): HeldReplica[] {
    return held.filter((c) => {
      const ok = this.#deps.tickets.valid(
        { sessionId: c.sessionId, replicaId: c.replicaId, admissionId, appHash: c.app.hash },
        c.ticket,
      );
      if (!ok)
        log.warn(
          { replicaId: c.replicaId, sessionId: c.sessionId, admissionId },
          'refused a held replica without a valid ticket',
        );
      return ok;
    });
  }

  /**
   * Whether the session wants a thumbnail from `replicaId` now (server/thumbnails.ts: ThumbnailStore.wants, or
   * .offer when a node asks before drawing one), judged by the server's own knowledge of who watches what
   * (resumed consumers at its SFU), never a node's word; false without a store.
   */
  #wantsThumbnail(
    session: ReturnType<SessionManager['ownedReplica']>['session'],
    replicaId: string,
    offer = false,
  ): boolean {
    const store = this.#deps.thumbnails;
    if (!store) return false;
    const watched = (id: string): boolean => {
      const producerId = session.replicas.get(id)?.producerId;
      return producerId ? this.#deps.sfu.watchers.isWatched(producerId) : false;
    };
    return offer ? store.offer(session.id, replicaId, watched) : store.wants(session.id, replicaId, watched);
  }

  #requireNode(): string {
    if (!this.#nodeId) throw new NotRegisteredError('node.register first', {});
    return this.#nodeId;
  }

  async handle(msg: NodeRequest): Promise<NodeResponses[NodeRequest['type']]> {
    const { manager, sfu } = this.#deps;
    switch (msg.type) {
      case 'node.register': {
        if (this.#nodeId && this.#nodeId !== msg.nodeId) {
          throw new BadRequestError('a connection registers one node id', { nodeId: this.#nodeId });
        }
        if (this.#registering) throw new ConflictError('a registration of this connection is under way', {});
        this.#registering = true;
        try {
          return await this.#register(msg);
        } finally {
          this.#registering = false;
        }
      }
      case 'transport.create': {
        const nodeId = this.#requireNode();
        const { session } = manager.ownedReplica(nodeId, msg.replicaId);
        // SCTP when the tile display is on: the node then also produces the replica's display channel.
        const transport = await sfu.createWebRtcTransport(session.id, { nodeId, replicaId: msg.replicaId }, true);
        if (!manager.sessions.has(session.id)) {
          // Closed while the transport was made: neither it nor the router made for it would ever be closed.
          transport.close();
          await sfu.closeRouter(session.id);
          throw new NotFoundError(`session ${session.id} has closed`, { sessionId: session.id });
        }
        this.#transports.set(transport.id, transport);
        transport.observer.on('close', () => {
          this.#transports.delete(transport.id);
          this.#produced.delete(transport.id);
        });
        try {
          manager.attachTransport(nodeId, msg.replicaId, transport);
        } catch (err) {
          // The replica left while the transport was made: nothing would ever close it but the node's disconnect.
          transport.close();
          throw err;
        }
        const router = await sfu.router(session.id);
        return {
          id: transport.id,
          iceParameters: transport.iceParameters,
          iceCandidates: transport.iceCandidates,
          dtlsParameters: transport.dtlsParameters,
          ...(transport.sctpParameters ? { sctpParameters: transport.sctpParameters } : {}),
          routerRtpCapabilities: router.rtpCapabilities,
        };
      }
      case 'transport.connect': {
        await this.#transport(msg.transportId).connect({ dtlsParameters: msg.dtlsParameters });
        return { connected: true };
      }
      case 'produce': {
        const nodeId = this.#requireNode();
        const transport = this.#transport(msg.transportId);
        const appData = transport.appData as { replicaId?: string };
        if (appData.replicaId !== msg.replicaId) {
          throw new ForbiddenError('transport belongs to another replica', { replicaId: msg.replicaId });
        }
        manager.ownedReplica(nodeId, msg.replicaId);
        // Each replica's video has a transport of its own; more producers on one would only pile up in the worker.
        if (this.#produced.has(transport.id)) {
          throw new ConflictError('this transport already carries a producer', { transportId: transport.id });
        }
        this.#produced.add(transport.id);
        let producer: types.Producer;
        try {
          producer = await transport.produce({
            kind: msg.kind,
            rtpParameters: msg.rtpParameters,
            appData: { nodeId, replicaId: msg.replicaId },
          });
        } catch (err) {
          this.#produced.delete(transport.id);
          throw err;
        }
        try {
          manager.attachProducer(nodeId, msg.replicaId, producer);
        } catch (err) {
          // The replica left while the producer was made: unattached, nothing would close it with the replica.
          producer.close();
          throw err;
        }
        // The node renders this replica only while a viewer watches it, and encodes its video only while one
        // has the video resumed (not only its display channel open).
        const replicaId = msg.replicaId;
        const producerId = producer.id;
        let told = { watched: false, video: false };
        let queued = false;
        // Once per task: one resume or pause moves both counts, and the node hears where they ended.
        const tell = (): void => {
          queued = false;
          if (producer.closed) return;
          const watched = sfu.watchers.isWatched(producerId);
          const video = sfu.videoWatchers.isWatched(producerId);
          if (watched === told.watched && video === told.video) return;
          // Inputs held for a standby go first (same socket, so in order): it renders the current state.
          if (watched && !told.watched) manager.replicaWatched(replicaId);
          told = { watched, video };
          this.#socket.emit('notify', { type: 'replica.watched', replicaId, watched, video });
        };
        const changed = (): void => {
          if (queued) return;
          queued = true;
          queueMicrotask(tell);
        };
        const unwatch = sfu.watchers.watch(producerId, changed);
        const unvideo = sfu.videoWatchers.watch(producerId, changed);
        producer.observer.on('close', () => {
          unwatch();
          unvideo();
        });
        return { producerId };
      }
      case 'produceData':
        return this.#produceData(msg);
      case 'replica.status': {
        const nodeId = this.#requireNode();
        return manager.onReplicaStatus(
          nodeId,
          msg.replicaId,
          {
            appliedSeq: msg.appliedSeq,
            stateHash: msg.stateHash,
            framesSent: msg.framesSent,
            ...(msg.videoIdle !== undefined ? { videoIdle: msg.videoIdle } : {}),
          },
          msg.selection ?? null,
        );
      }
      case 'inputs.fetch': {
        const nodeId = this.#requireNode();
        return manager.fetchInputs(nodeId, msg.replicaId, msg.fromSeq, msg.toSeq);
      }
      case 'node.leave': {
        const nodeId = this.#requireNode();
        manager.nodeGone(nodeId, 'graceful leave');
        this.#nodeId = undefined;
        return { left: true };
      }
      case 'node.ping':
        // Nothing but the event loop: a server slow to commit still answers (render/link-liveness.ts).
        return { ok: true };
      case 'node.heartbeat': {
        manager.onHeartbeat(this.#requireNode(), msg.load);
        return { ok: true };
      }
      case 'replica.snapshot': {
        const data = Buffer.from(msg.data, 'base64');
        return manager.onSnapshot(this.#requireNode(), msg.replicaId, msg.seq, msg.stateHash, data);
      }
      case 'snapshot.fetch': {
        const snap = await manager.fetchSnapshot(this.#requireNode(), msg.replicaId);
        return snap ? { seq: snap.seq, stateHash: snap.stateHash, data: snap.data.toString('base64') } : null;
      }
      case 'replica.refuse': {
        manager.onReplicaRefused(this.#requireNode(), msg.replicaId, msg.code ?? 'start-failed', msg.reason);
        return { ok: true };
      }
      case 'replica.failed': {
        const { reason, seq, message } = msg;
        manager.onReplicaFailed(this.#requireNode(), msg.replicaId, { reason, seq, message });
        return { ok: true };
      }
      case 'node.bundles': {
        manager.setNodeBundles(this.#requireNode(), msg.bundles);
        return { ok: true };
      }
      case 'bundle.fetch': {
        this.#requireNode();
        const store = this.#deps.bundles;
        const info = store?.get(msg.hash);
        if (!store || !info) throw new NotFoundError(`no published bundle ${msg.hash}`, { hash: msg.hash });
        if (msg.offset >= info.size) throw new BadRequestError(`offset past the bundle's ${info.size} bytes`, {});
        const data = store.read(msg.hash, msg.offset, LIMITS.bundleChunkBytes);
        return { hash: msg.hash, size: info.size, offset: msg.offset, data: data.toString('base64') };
      }
      case 'replica.thumbnailOffer': {
        const { session } = manager.ownedReplica(this.#requireNode(), msg.replicaId);
        return { wanted: this.#wantsThumbnail(session, msg.replicaId, true) };
      }
      case 'replica.thumbnail': {
        const { session } = manager.ownedReplica(this.#requireNode(), msg.replicaId);
        const jpeg = Buffer.from(msg.jpegBase64, 'base64');
        if (!isThumbnailJpeg(jpeg)) throw new BadRequestError('not a JPEG of allowed size', {});
        const store = this.#deps.thumbnails;
        // Declined: another replica of the session is its source (the node holds this one's back a while).
        if (!store || !this.#wantsThumbnail(session, msg.replicaId)) return { stored: false, wanted: false };
        store.put(session.id, msg.replicaId, jpeg);
        return { stored: true, wanted: true };
      }
      case 'replica.copyResult': {
        const nodeId = this.#requireNode();
        manager.ownedReplica(nodeId, msg.replicaId);
        if (!this.#deps.clipboard) throw new BadRequestError('copy is not enabled', {});
        this.#deps.clipboard.answer(nodeId, msg.replicaId, msg.requestId, msg.text, msg.seq);
        return { ok: true };
      }
      case 'replica.exportResult': {
        const nodeId = this.#requireNode();
        manager.ownedReplica(nodeId, msg.replicaId);
        if (!this.#deps.exports) throw new BadRequestError('export is not enabled', {});
        this.#deps.exports.answer(nodeId, msg.replicaId, msg.requestId, msg.seq, msg.data, msg.error);
        return { ok: true };
      }
      default: {
        const never: never = msg;
        throw new BadRequestError('unknown request', { msg: never });
      }
    }
  }

  #transport(id: string): types.WebRtcTransport {
    const t = this.#transports.get(id);
    if (!t) throw new ForbiddenError(`transport ${id} is not this node's`, { transportId: id });
    return t;
  }

  /**
   * Registers the node this connection speaks for. The connection counts as registered (its close unregisters
   * the node) only once the manager holds the registration: a connection that dropped, or failed, on the way
   * must not take down a registration a newer connection of the node made meanwhile.
   */
  async #register(msg: Extract<NodeRequest, { type: 'node.register' }>): Promise<NodeResponses['node.register']> {
    const { manager } = this.#deps;
    const { hostId, ...credential } = await this.#admit(msg.nodeId, msg.hostId);
    const caps = this.#auth.admission;
    const node: RegisteredNode = {
      nodeId: msg.nodeId,
      hostId,
      admissionId: caps.admissionId,
      apps: msg.apps,
      warmApps: msg.warmApps ?? [...new Set(msg.apps.map((a) => a.name))],
      appPolicy: msg.appPolicy ?? DEFAULT_APP_POLICY,
      warmBundles: msg.bundles ?? [],
      refusedBundles: [],
      // What the node claims, within what the operator allowed its host (the replica cap is per host: see NodeRegistry).
      cores: Math.min(msg.capacity.cores, caps.maxCores ?? Infinity),
      maxReplicas: msg.capacity.maxReplicas,
      admissionMaxReplicas: caps.maxReplicas,
      state: 'up',
      replicas: new Map(),
      registeredAt: Date.now(),
      lastHeartbeatAt: Date.now(),
      load: 0,
      notify: (n) => this.#socket.emit('notify', n.type === 'replica.create' ? this.#ticketed(n, caps.admissionId) : n),
      disconnect: this.#cut,
    };
    const held = this.#ticketedClaims(msg.held ?? [], caps.admissionId);
    await manager.syncHeads(held);
    if (!this.#socket.connected) throw new ClosedError('the connection closed while it registered', {});
    const adopted = manager.registerNode(node, held);
    this.#nodeId = msg.nodeId;
    return { registered: true, hostId, ...credential, ...(held.length > 0 ? { adopted } : {}) };
  }

  /**
   * A replica's display channel (tile display) on its own send transport. The node hears `replica.tiles` on
   * when a viewer starts consuming it (each start: a whole frame) and off when no viewer is left.
   */
  async #produceData(msg: Extract<NodeRequest, { type: 'produceData' }>): Promise<NodeResponses['produceData']> {
    const { manager, sfu } = this.#deps;
    const nodeId = this.#requireNode();
    if (!sfu.tileDisplay) throw new BadRequestError('the tile display is not enabled on this server', {});
    const transport = this.#transport(msg.transportId);
    const appData = transport.appData as { replicaId?: string };
    if (appData.replicaId !== msg.replicaId) {
      throw new ForbiddenError('transport belongs to another replica', { replicaId: msg.replicaId });
    }
    manager.ownedReplica(nodeId, msg.replicaId);
    // One display channel per replica, counted from the request on: a burst cannot pass the check together.
    if (manager.dataProducerOf(msg.replicaId) || this.#producingData.has(msg.replicaId)) {
      throw new ConflictError('the replica has a display channel', { replicaId: msg.replicaId });
    }
    this.#producingData.add(msg.replicaId);
    let dataProducer: types.DataProducer;
    try {
      dataProducer = await transport.produceData({
        sctpStreamParameters: { ...msg.sctpStreamParameters, ordered: true },
        label: msg.label,
        appData: { nodeId, replicaId: msg.replicaId },
      });
      if (dataProducer.closed || this.#transports.get(transport.id) !== transport) {
        // The transport closed meanwhile: a channel its close never reached would pass for the replica's.
        dataProducer.close();
        throw new ClosedError('the transport closed while the display channel was made', { replicaId: msg.replicaId });
      }
      try {
        manager.attachDataProducer(nodeId, msg.replicaId, dataProducer);
      } catch (err) {
        // As for the video producer: a display channel its replica's removal never reaches.
        dataProducer.close();
        throw err;
      }
    } finally {
      this.#producingData.delete(msg.replicaId);
    }
    const replicaId = msg.replicaId;
    const tell = (on: boolean): void => void this.#socket.emit('notify', { type: 'replica.tiles', replicaId, on });
    const untile = sfu.tileWatchers.watch(dataProducer.id, (on) => {
      if (!on) tell(false);
    });
    const unwanted = sfu.onTilesWanted(dataProducer.id, () => tell(true));
    dataProducer.observer.on('close', () => {
      untile();
      unwanted();
    });
    return { dataProducerId: dataProducer.id };
  }

  close(reason: string): void {
    if (this.#nodeId) this.#deps.manager.nodeGone(this.#nodeId, `disconnected: ${reason}`);
    for (const t of this.#transports.values()) t.close();
    this.#transports.clear();
  }
}
