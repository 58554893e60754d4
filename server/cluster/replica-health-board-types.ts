// Types of the cluster's replica health board (replica-health-board.ts).
import type { Etcd3 } from 'etcd3';
import type { SessionHealthReport } from '../../protocol/cluster-state.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { ServerRegistry } from './server-registry.js';

export interface ReplicaHealthBoardOptions {
  client: Etcd3;
  /** Key prefix shared by the deployment (e.g. "lockstep/"). */
  namespace: string;
  /** This server's registry: its lease carries this server's reports (they go with it). */
  registry: ServerRegistry;
  secret: ClusterSecret;
  /** Reports are written at most this often per session (coalesced; default 500 ms). */
  flushEveryMs?: number;
}

export interface ReplicaHealthBoardEvents {
  /** A server's report on a session was written, changed or went. */
  changed: [sessionId: string];
}

export type { SessionHealthReport };
