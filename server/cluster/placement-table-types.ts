// Types of the cluster placement table (placement-table.ts).
import type { Etcd3 } from 'etcd3';
import type { PlacedReplica, SessionPlacement } from '../../protocol/cluster-state.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { FencedWriter } from './fenced-writer.js';
import type { LeaderElection } from './leader-election.js';

export interface PlacementTableOptions {
  client: Etcd3;
  /** Key prefix shared by the deployment (e.g. "lockstep/"). */
  namespace: string;
  /** This server's election and fenced writer: only the leader writes placements. */
  election: LeaderElection;
  writer: FencedWriter;
  secret: ClusterSecret;
  now?: () => number;
}

/** One replica this server's nodes must run. */
export interface Assignment {
  sessionId: string;
  replica: PlacedReplica;
}

export interface PlacementTableEvents {
  /** A session's placement was written (null: removed). */
  changed: [sessionId: string, placement: SessionPlacement | null];
}
