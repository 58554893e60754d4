// Inputs and outputs of the leader's cluster-wide placement (cluster-placement.ts).
import type {
  AppFailureVote,
  ClusterNodeInfo,
  PlacedReplica,
  ReplicaFailureCause,
  SessionPlacement,
} from '../../protocol/cluster-state.js';
import type { AppFailure } from '../../protocol/replica-failure.js';
import type { AppRef } from '../../protocol/session.js';
import type { RelayedAppFailure } from '../session-core/app-failure-vote.js';

/** An open session as placement needs it. */
export interface PlacedSessionView {
  sessionId: string;
  app: AppRef;
  replicationFactor: number;
}

/** A replica a home server gave up (its report in etcd): the leader places another elsewhere. */
export interface ReportedFailure {
  replicaId: string;
  nodeId: string;
  hostId: string;
  cause: ReplicaFailureCause;
}

/** Every server's reports on one session, merged. */
export interface SessionHealthView {
  failed: readonly ReportedFailure[];
  quarantinedHosts: readonly string[];
  /** What home servers say their replicas applied (latest report each): the cluster-wide hash vote's ballots. */
  replicas?: ReadonlyArray<{
    replicaId: string;
    nodeId: string;
    appliedSeq: number;
    stateHash: string | null;
    /** Its state at its home (absent: not reported); only a `live` one counts when spreading homes. */
    state?: string;
    /** A viewer watches its stream at its home (resumed there); absent from older reports. */
    watched?: boolean;
  }>;
  /** Typed app failures home servers relayed, each with the server that relayed it. */
  appFailures?: readonly RelayedAppFailure[];
}

export interface ClusterPlacementInput {
  /** The cluster's open sessions (the session watch). */
  sessions: readonly PlacedSessionView[];
  /** The node directory: every server's live nodes. */
  nodes: readonly ClusterNodeInfo[];
  /** Ids of the servers in the registry now: nodes homed elsewhere get nothing new. */
  servers: ReadonlySet<string>;
  /** The placement table as it stands. */
  table: ReadonlyMap<string, SessionPlacement>;
  /** Reported health per session id (absent: nothing reported). */
  health: ReadonlyMap<string, SessionHealthView>;
}

export type PlacementChange =
  | {
      kind: 'write';
      sessionId: string;
      replicas: PlacedReplica[];
      nextOrdinal: number;
      /** Hosts never to place this session on again (kept in the table, so a new leader knows them). */
      quarantinedHosts: string[];
      /** App failures counted so far (kept in the table: a new leader loses none). */
      appFailureVotes: AppFailureVote[];
      /** The session's failed state once a quorum of hosts failed at one seq (kept once set). */
      appFailure: AppFailure | null;
      reasons: string[];
    }
  | { kind: 'remove'; sessionId: string };

export interface ClusterPlacerOptions {
  /**
   * How long a replica whose node left the directory keeps its entry: the node
   * keeps it running that long while it looks for a new home, and a node that
   * re-registers elsewhere (same node id) keeps it. After that it is re-placed.
   */
  holdMs: number;
}
