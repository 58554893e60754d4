// How the server reaches one renderer node: the typed port the node gateway
// implements. The session core never holds one; the session manager keeps a
// port per connected node and turns the core's node commands into notifications.
import type { NodeNotification } from '../protocol/signalling.js';
import type { NodeRecord } from './session-core/node-registry.js';

export interface NodePort {
  // Function-typed fields, not methods: the manager keeps them apart from the record they came with.
  notify: (msg: NodeNotification) => void;
  /** Drops the node's connection (it reconnects and registers afresh when it can). */
  disconnect: (reason: string) => void;
}

/** A node as the gateway registers it: what the core tracks plus the port to reach it. */
export type RegisteredNode = NodeRecord & NodePort;

/** A connected node as callers see it: the core's record (read-only) and its port. */
export type ConnectedNode = Readonly<NodeRecord> & NodePort;
