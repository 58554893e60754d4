// What goes into the session core (events) and what comes out (commands).
// Both are plain data: the core never touches a socket, a timer, the log or
// the SFU; the adapter (server/session-manager.ts) executes the commands and
// feeds back what happened, so a write is only believed once acknowledged.
import type { SequencedInput } from '../../protocol/input.js';
import type { AppFailure, RefusalCode } from '../../protocol/replica-failure.js';
import type { SelectionGeometry } from '../../protocol/selection.js';
import type { AdoptedReplica, HeldReplica, ReplicaAssignment } from '../../protocol/signalling.js';
import type { NodeRecord } from './node-registry.js';
import type { HealthThresholds, ReplicaStatusReport } from './replica-health-types.js';
import type { SessionMeta } from './session.js';

/** Why a replica stopped being offered: a bounded label for logs and metrics. */
export type RemovalCause = 'node-gone' | 'unresponsive' | 'diverged' | 'refused' | 'app-failed' | 'closed';

export interface SnapshotRef {
  seq: number;
  stateHash: string;
}

/** What the durable store knows of a session: enough for any core (after a restart or an election) to take over. */
export interface DurableSession {
  meta: SessionMeta;
  headSeq: number;
  /** Latest quorum-confirmed snapshot. */
  snapshot: SnapshotRef | null;
  /** The confirmed one before it, still stored with its log tail (the fallback), or null. */
  previousSnapshot: SnapshotRef | null;
  /** The log holds nothing at or below this seq. */
  compactedThrough: number;
}

/** A replica a node says it already runs (a node that outlived the core that placed it). */
export interface RunningReplica {
  replicaId: string;
  sessionId: string;
  appliedSeq: number;
  stateHash: string | null;
  /** Its producer's id when the SFU already holds it, else null. */
  producerId: string | null;
}

export type SessionCoreEvent =
  /**
   * `restored`: loaded from the store at start. Its nodes may still come back
   * with the replicas they kept running, so nothing fresh is placed for it
   * until `adoptionWindowMs` (core clock) has passed.
   */
  | { type: 'session-opened'; session: DurableSession; restored?: boolean }
  /** The store has closed it durably; only then is it forgotten here. */
  | { type: 'session-closed'; sessionId: string; reason: string }
  /**
   * `held`: replicas the node kept running without a server (its server died
   * or it moved home); a claim, adopted only as replica-adoption.ts allows and
   * live only once vouched for. Answered by one `replicas-adopted` command.
   */
  | { type: 'node-joined'; node: NodeRecord; running?: readonly RunningReplica[]; held?: readonly HeldReplica[] }
  /**
   * Many nodes at once, placement decided only after all of them: how a new
   * leader learns the current node view without placing anew what a node it
   * has not heard yet already runs.
   */
  | { type: 'node-view'; nodes: ReadonlyArray<{ node: NodeRecord; running: readonly RunningReplica[] }> }
  | { type: 'node-gone'; nodeId: string; reason: string }
  | { type: 'node-bundles'; nodeId: string; bundles: NodeRecord['warmBundles'] }
  | { type: 'heartbeat'; nodeId: string; load: number }
  | {
      type: 'replica-status';
      nodeId: string;
      replicaId: string;
      status: ReplicaStatusReport;
      selection: SelectionGeometry | null;
    }
  | { type: 'producer-attached'; nodeId: string; replicaId: string; producerId: string }
  | { type: 'producer-closed'; sessionId: string; replicaId: string; producerId: string }
  | { type: 'producer-score'; sessionId: string; replicaId: string; score: number }
  /** Inputs the sequencer made durable. `watched`: replica ids some viewer watches now (they are fed first). */
  | { type: 'inputs-sequenced'; sessionId: string; inputs: readonly SequencedInput[]; watched: ReadonlySet<string> }
  | { type: 'status-wanted'; sessionId: string }
  /** The log's head as read from the store (another server may have sequenced inputs this one has not fanned out). */
  | { type: 'head-seen'; sessionId: string; headSeq: number }
  /**
   * The log's durable facts read back after it was truncated past what this
   * core fanned out (cluster mode: another server compacted it meanwhile):
   * the core takes the newer snapshot and compaction point, so its replicas
   * behind them restore that snapshot and replay its tail.
   */
  | { type: 'log-compacted-elsewhere'; session: DurableSession }
  /** `code`: only permanent ones (protocol/replica-failure.ts) stop offering the app to that node. */
  | { type: 'replica-refused'; nodeId: string; replicaId: string; code: RefusalCode; reason: string }
  /** The app failed in a running replica at `failure.seq` (its node's word): re-placed, or the session fails. */
  | { type: 'replica-failed'; nodeId: string; replicaId: string; failure: AppFailure }
  /** A replica's answer to a checkpoint; `data` is checked against `stateHash` here. */
  | { type: 'snapshot-answer'; nodeId: string; replicaId: string; seq: number; stateHash: string; data: Buffer }
  | { type: 'snapshot-stored'; sessionId: string; seq: number }
  | { type: 'snapshot-store-failed'; sessionId: string; seq: number; error: string }
  | { type: 'log-truncated'; sessionId: string; throughSeq: number; truncated: number }
  | { type: 'log-truncate-failed'; sessionId: string; throughSeq: number; error: string }
  /**
   * Cluster mode (placement 'table'): the leader's placement of the session,
   * replica id → node id (null: no entry). This core runs the replicas it
   * names on nodes registered here and no others.
   */
  | {
      type: 'placement';
      sessionId: string;
      replicas: ReadonlyArray<{ replicaId: string; nodeId: string }> | null;
      /** The session's failed state as the leader wrote it (a quorum of hosts failed at one seq cluster-wide). */
      appFailure?: AppFailure | null;
    }
  /**
   * Cluster mode: the leader asks every home server for its replicas' state at
   * `seq` (a cluster-wide checkpoint); this core asks its own replicas and
   * hands each verified answer on (`checkpoint-answer`), deciding nothing.
   */
  | { type: 'checkpoint-wanted'; sessionId: string; seq: number }
  /** Cluster mode: the leader confirmed a snapshot; the log's facts (snapshot, compaction) as read after it. */
  | { type: 'cluster-snapshot-confirmed'; session: DurableSession }
  /** Time passed: liveness, health, the hash vote, re-placement, snapshot policy. */
  | { type: 'tick' };

export type SessionCoreCommand =
  // ---- to a node
  | { type: 'create-replica'; nodeId: string; assignment: ReplicaAssignment }
  | { type: 'close-replica'; nodeId: string; replicaId: string; reason: string }
  /** `watched`: some viewer has a resumed consumer of the replica's stream (a standby's may wait for a batch). */
  | { type: 'send-inputs'; nodeId: string; replicaId: string; inputs: readonly SequencedInput[]; watched: boolean }
  | { type: 'ask-status'; nodeId: string; replicaId: string }
  | { type: 'ask-snapshot'; nodeId: string; replicaId: string; seq: number }
  | { type: 'disconnect-node'; nodeId: string; reason: string }
  /** The answer to a node's held replicas: those adopted (the node closes the rest), with each session's head. */
  | { type: 'replicas-adopted'; nodeId: string; adopted: AdoptedReplica[] }
  // ---- to the log (each answered by an event: stored / failed)
  | { type: 'store-snapshot'; sessionId: string; seq: number; stateHash: string; data: Buffer; hosts: string[] }
  /** Delete snapshots before `throughSeq` and the log through it (the previous confirmed snapshot stays). */
  | { type: 'truncate-log'; sessionId: string; throughSeq: number }
  /** A snapshot that took the blame for a divergence; the session already falls back to `fallbackSeq`. */
  | { type: 'drop-snapshot'; sessionId: string; seq: number; fallbackSeq: number | null }
  // ---- to the media side and to whoever listens
  /** The replica is gone from the session: its media is released and listeners are told. */
  | { type: 'replica-removed'; sessionId: string; replicaId: string; cause: RemovalCause; reason: string }
  | { type: 'session-update'; sessionId: string }
  | { type: 'session-ended'; sessionId: string; reason: string }
  | {
      type: 'divergence';
      sessionId: string;
      replicaId: string;
      hostId: string;
      seq: number;
      hash: string;
      majorityHash: string;
    }
  | { type: 'selection'; sessionId: string; replicaId: string; seq: number; selection: SelectionGeometry | null }
  /** A checkpoint found its quorum; `store` is false when a newer snapshot was confirmed meanwhile. */
  | { type: 'checkpoint-decided'; sessionId: string; seq: number; hosts: string[]; store: boolean }
  | { type: 'snapshot-announced'; sessionId: string; seq: number; bytes: number; truncated: number }
  /** Cluster mode: one local replica's answer to the leader's checkpoint, its bytes checked against its hash. */
  | {
      type: 'checkpoint-answer';
      sessionId: string;
      replicaId: string;
      hostId: string;
      seq: number;
      stateHash: string;
      data: Buffer;
    }
  | { type: 'log'; level: 'info' | 'warn' | 'error'; msg: string; ctx: Record<string, unknown> };

export type SessionCoreCommandType = SessionCoreCommand['type'];

export interface SessionCoreOptions {
  /** Ask a checkpoint every this many inputs. */
  snapshotEvery: number;
  /** A node silent for longer than this is dead, socket or not. */
  nodeDeadAfterMs: number;
  /** How long a checkpoint may wait for its quorum before a new one is asked. */
  checkpointTimeoutMs: number;
  health?: Partial<HealthThresholds>;
  /**
   * 'local' (default, the single server): the core places replicas on its nodes
   * itself. 'table' (cluster mode): only what the leader's placement table names
   * (the 'placement' event); a replica given up here is reported, not replaced.
   */
  placement?: 'local' | 'table';
  /** How long a session restored at start waits for its nodes' held replicas before placing fresh ones (default 0). */
  adoptionWindowMs?: number;
}
