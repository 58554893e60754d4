// The renderer nodes' socket.io namespace (/node): registration, the media
// path for their replicas (send transports, producers), status and input
// fetches. A node acts only on the replicas assigned to it.
import type { types } from 'mediasoup';
import type { Namespace, Socket } from 'socket.io';
import { getLogger } from '../protocol/logger.js';
import {
  NodeRequestSchema,
  type NodeClientToServer,
  type NodeRequest,
  type NodeResponses,
  type NodeServerToClient,
} from '../protocol/signalling.js';
import { BadRequestError, ForbiddenError } from './errors.js';
import type { RegisteredNode } from './node-registry.js';
import { dispatcher } from './request-dispatch.js';
import type { SessionManager } from './session-manager.js';
import type { Sfu } from './sfu.js';

const log = getLogger('node-gateway');

type NodeSocket = Socket<NodeClientToServer, NodeServerToClient>;

export interface NodeGatewayDeps {
  manager: SessionManager;
  sfu: Sfu;
  /** Checks the cluster join token from the handshake; returns false to refuse. */
  authorize: (token: string) => boolean;
}

export class NodeGateway {
  readonly #deps: NodeGatewayDeps;

  constructor(nsp: Namespace<NodeClientToServer, NodeServerToClient>, deps: NodeGatewayDeps) {
    this.#deps = deps;
    nsp.use((socket, next) => {
      const token: unknown = socket.handshake.auth.token;
      if (typeof token === 'string' && deps.authorize(token)) next();
      else next(new Error('unauthorized: a valid cluster join token is required'));
    });
    nsp.on('connection', (socket) => this.#onConnection(socket));
  }

  #onConnection(socket: NodeSocket): void {
    const conn = new NodeConnection(socket, this.#deps);
    socket.on(
      'request',
      dispatcher(NodeRequestSchema, log, (msg: NodeRequest) => conn.handle(msg)),
    );
    socket.on('disconnect', (reason) => conn.close(reason));
  }
}

/** One connected renderer node and the transports it opened. */
class NodeConnection {
  readonly #socket: NodeSocket;
  readonly #deps: NodeGatewayDeps;
  readonly #transports = new Map<string, types.WebRtcTransport>();
  #nodeId: string | undefined;

  constructor(socket: NodeSocket, deps: NodeGatewayDeps) {
    this.#socket = socket;
    this.#deps = deps;
  }

  #requireNode(): string {
    if (!this.#nodeId) throw new ForbiddenError('node.register first', {});
    return this.#nodeId;
  }

  async handle(msg: NodeRequest): Promise<NodeResponses[NodeRequest['type']]> {
    const { manager, sfu } = this.#deps;
    switch (msg.type) {
      case 'node.register': {
        if (this.#nodeId && this.#nodeId !== msg.nodeId) {
          throw new BadRequestError('a connection registers one node id', { nodeId: this.#nodeId });
        }
        this.#nodeId = msg.nodeId;
        const node: RegisteredNode = {
          nodeId: msg.nodeId,
          hostId: msg.hostId,
          apps: msg.apps,
          cores: msg.capacity.cores,
          maxReplicas: msg.capacity.maxReplicas,
          state: 'up',
          replicas: new Map(),
          registeredAt: Date.now(),
          lastHeartbeatAt: Date.now(),
          load: 0,
          notify: (n) => this.#socket.emit('notify', n),
          disconnect: (reason) => {
            log.warn({ nodeId: msg.nodeId, reason }, 'disconnecting node');
            this.#nodeId = undefined;
            this.#socket.disconnect(true);
          },
        };
        manager.registerNode(node);
        return { registered: true };
      }
      case 'transport.create': {
        const nodeId = this.#requireNode();
        const { session } = manager.ownedReplica(nodeId, msg.replicaId);
        const transport = await sfu.createWebRtcTransport(session.id, { nodeId, replicaId: msg.replicaId });
        this.#transports.set(transport.id, transport);
        transport.observer.on('close', () => this.#transports.delete(transport.id));
        manager.attachTransport(nodeId, msg.replicaId, transport);
        const router = await sfu.router(session.id);
        return {
          id: transport.id,
          iceParameters: transport.iceParameters,
          iceCandidates: transport.iceCandidates,
          dtlsParameters: transport.dtlsParameters,
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
        const producer = await transport.produce({
          kind: msg.kind,
          rtpParameters: msg.rtpParameters,
          appData: { nodeId, replicaId: msg.replicaId },
        });
        manager.attachProducer(nodeId, msg.replicaId, producer);
        return { producerId: producer.id };
      }
      case 'replica.status': {
        const nodeId = this.#requireNode();
        return manager.onReplicaStatus(nodeId, msg.replicaId, {
          appliedSeq: msg.appliedSeq,
          stateHash: msg.stateHash,
          framesSent: msg.framesSent,
        });
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
      case 'node.heartbeat': {
        manager.onHeartbeat(this.#requireNode(), msg.load);
        return { ok: true };
      }
      case 'replica.snapshot': {
        const data = Buffer.from(msg.data, 'base64');
        return manager.onSnapshot(this.#requireNode(), msg.replicaId, msg.seq, msg.stateHash, data);
      }
      case 'snapshot.fetch': {
        const snap = manager.fetchSnapshot(this.#requireNode(), msg.replicaId);
        return snap ? { seq: snap.seq, stateHash: snap.stateHash, data: snap.data.toString('base64') } : null;
      }
      case 'replica.refuse': {
        manager.onReplicaRefused(this.#requireNode(), msg.replicaId, msg.reason);
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

  close(reason: string): void {
    if (this.#nodeId) this.#deps.manager.nodeGone(this.#nodeId, `disconnected: ${reason}`);
    for (const t of this.#transports.values()) t.close();
    this.#transports.clear();
  }
}
