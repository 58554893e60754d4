// One session as the session core sees it: its pinned app, its replicas and
// what the replicas last said. Plain data: the media of a replica (transport,
// producer) is held by the adapter (server/replica-media.ts), keyed by replica id.
import { DEFAULT_APP_INPUTS, type AppInputs } from '../../protocol/app-inputs.js';
import type { ReplicaFailureCause } from '../../protocol/cluster-state.js';
import type { AppFailure } from '../../protocol/replica-failure.js';
import type { AppRef, ReplicaInfo, ReplicaState, SessionInfo } from '../../protocol/session.js';
import { ReplicaHealthTracker, type HealthThresholds } from './replica-health.js';
import type { SelectionAt } from './selection-relay.js';
import { replicaOrdinal } from './replica-adoption.js';
import type { SnapshotCheckpoint } from './snapshot-checkpoint.js';

export interface ReplicaRecord {
  replicaId: string;
  nodeId: string;
  hostId: string;
  /** The join token its node was admitted by (placement spreads a session over these too). */
  admissionId: string;
  state: ReplicaState;
  /** The head seq when it was assigned: it is live once it applied this far. */
  catchUpTo: number;
  appliedSeq: number;
  stateHash: string | null;
  /** The stored snapshot it started from (its seq), or null when it replayed from the first input. */
  restoredFrom: number | null;
  /** The id of the video producer the SFU holds for it, or null until it produces (or after it closed). */
  producerId: string | null;
  createdAt: number;
  /** Taken over from the node that kept it running (the session core's adoption of held replicas): live only once its hash is vouched for. */
  adopted?: boolean;
  /** The selection geometry its renderer last reported (selection-relay.ts); absent until it reports one. */
  selection?: SelectionAt;
}

/** A replica the placement table names here that this server gave up (cluster mode): reported, never run again. */
export interface FailedReplica {
  replicaId: string;
  nodeId: string;
  hostId: string;
  cause: ReplicaFailureCause;
}

/** A replica's app failure as this server relays it to the cluster leader. */
export interface RelayedFailure extends AppFailure {
  replicaId: string;
  nodeId: string;
  hostId: string;
}

/** App failures relayed per session at most (the health report's bound). */
const MAX_RELAYED_FAILURES = 64;

/** Fixed at creation: replicas always start from this app version and surface. */
export interface SessionMeta {
  readonly sessionId: string;
  readonly owner: string;
  readonly app: AppRef;
  /** What the app's manifest says about the inputs it reads; absent: every input (DEFAULT_APP_INPUTS). */
  readonly inputs?: AppInputs;
  readonly replicationFactor: number;
  readonly width: number;
  readonly height: number;
  readonly createdAt: number;
}

/** Distinct seqs with failure reports kept per session. */
const MAX_FAILURE_SEQS = 32;

export class Session {
  readonly meta: SessionMeta;
  readonly replicas = new Map<string, ReplicaRecord>();
  readonly health: ReplicaHealthTracker;
  headSeq: number;
  /** When the core last asked every replica for a status report for the viewers (see 'status-wanted'). */
  statusAskedAt = Number.NEGATIVE_INFINITY;
  /**
   * The app surface after the latest sequenced resize (what viewers see);
   * `meta.width/height` stay the creation size every replica starts from.
   */
  surface: { width: number; height: number };
  /** Latest quorum-confirmed snapshot: where new replicas start. */
  snapshot: { seq: number; stateHash: string } | null = null;
  /**
   * The log holds nothing at or below this seq. It trails `snapshot`: the log is
   * truncated only behind the previous confirmed snapshot, so a replica that
   * cannot use the latest one can still start from the one before plus the log.
   */
  compactedThrough = 0;
  /**
   * The confirmed snapshot before `snapshot`, still stored with its log tail:
   * the fallback when replicas restored from the latest one diverge.
   */
  previousSnapshot: { seq: number; stateHash: string } | null = null;
  /**
   * A confirmed snapshot being written (and then the log truncated behind the
   * previous one): no new checkpoint is asked until the writes are acknowledged.
   */
  storing: { seq: number; stateHash: string; bytes: number; phase: 'snapshot' | 'truncate' } | null = null;
  /** The snapshot checkpoint asked of the replicas and not yet decided. */
  checkpoint: SnapshotCheckpoint | null = null;
  /** Hosts whose replica diverged from the majority: never placed in this session again. */
  readonly quarantinedHosts = new Set<string>();
  /** Cluster mode: replicas given up here, by id, until the leader's table stops naming them. */
  readonly failed = new Map<string, FailedReplica>();
  /** App failures the nodes reported: seq → the hosts that said so (each one's word only; see noteAppFailure). */
  readonly #appFailureReports = new Map<number, Map<string, AppFailure>>();
  /** Set once replicas on `quorum` distinct hosts failed at one seq: no replica is placed again. */
  appFailure: AppFailure | null = null;
  /** Cluster mode: app failures of replicas here, relayed to the leader (bounded, oldest out first). */
  readonly relayedAppFailures = new Map<string, RelayedFailure>();
  #replicaCounter = 0;
  #closed = false;

  constructor(meta: SessionMeta, headSeq: number, thresholds: Partial<HealthThresholds> = {}) {
    this.meta = meta;
    this.headSeq = headSeq;
    this.surface = { width: meta.width, height: meta.height };
    this.health = new ReplicaHealthTracker(thresholds);
    this.health.setHeadSeq(headSeq);
  }

  get id(): string {
    return this.meta.sessionId;
  }
  get closed(): boolean {
    return this.#closed;
  }

  nextReplicaId(): string {
    return `${this.meta.sessionId}.r${++this.#replicaCounter}`;
  }

  /** A replica id learnt from elsewhere (a node that runs or held it): new ids are never reused after it. */
  noteReplicaId(replicaId: string): void {
    const n = replicaOrdinal(this.meta.sessionId, replicaId);
    if (n !== null) this.#replicaCounter = Math.max(this.#replicaCounter, n);
  }

  /** Replicas counting toward the replication factor. */
  activeReplicas(): ReplicaRecord[] {
    return [...this.replicas.values()].filter(
      (r) => r.state === 'starting' || r.state === 'catching-up' || r.state === 'live',
    );
  }

  /**
   * One host says the app failed at `f.seq`. Returns the session's failure
   * once `quorum` distinct hosts said so at the same seq (a single host, honest
   * or not, can only get its replica replaced), else null.
   */
  noteAppFailure(hostId: string, f: AppFailure, quorum: number): AppFailure | null {
    let hosts = this.#appFailureReports.get(f.seq);
    if (!hosts) {
      hosts = new Map();
      this.#appFailureReports.set(f.seq, hosts);
      // Bounded: a node reporting ever new seqs only pushes its own old reports out.
      const oldest = this.#appFailureReports.keys().next().value;
      if (this.#appFailureReports.size > MAX_FAILURE_SEQS && oldest !== undefined) {
        this.#appFailureReports.delete(oldest);
      }
    }
    hosts.set(hostId, f);
    if (hosts.size < quorum) return null;
    this.appFailure = f;
    return f;
  }

  /** Cluster mode: one replica's app failure, for the health board (the leader counts the hosts). */
  noteRelayedAppFailure(f: RelayedFailure): void {
    this.relayedAppFailures.delete(f.replicaId);
    this.relayedAppFailures.set(f.replicaId, f);
    const oldest = this.relayedAppFailures.keys().next().value;
    if (this.relayedAppFailures.size > MAX_RELAYED_FAILURES && oldest !== undefined) {
      this.relayedAppFailures.delete(oldest);
    }
  }

  advanceHead(seq: number): void {
    if (seq > this.headSeq) {
      this.headSeq = seq;
      this.health.setHeadSeq(seq);
    }
  }

  replicaInfo(r: ReplicaRecord, now: number): ReplicaInfo {
    const a = this.health.assess(r.replicaId, now);
    return {
      replicaId: r.replicaId,
      sessionId: this.id,
      nodeId: r.nodeId,
      hostId: r.hostId,
      state: r.state,
      producerId: r.producerId,
      appliedSeq: r.appliedSeq,
      stateHash: r.stateHash,
      health: a?.health ?? { heartbeatAgeMs: 0, lagSeq: this.headSeq - r.appliedSeq, producerScore: null },
      selection: r.selection?.geometry ?? null,
      ...(a ? { verdict: a.verdict } : {}),
    };
  }

  info(now: number): SessionInfo {
    return {
      sessionId: this.id,
      app: this.meta.app,
      inputs: this.meta.inputs ?? DEFAULT_APP_INPUTS,
      replicationFactor: this.meta.replicationFactor,
      width: this.surface.width,
      height: this.surface.height,
      createdAt: this.meta.createdAt,
      headSeq: this.headSeq,
      replicas: [...this.replicas.values()].filter((r) => r.state !== 'closed').map((r) => this.replicaInfo(r, now)),
      ...(this.appFailure ? { appFailure: this.appFailure } : {}),
    };
  }

  /** Forgets one replica (its media is the adapter's to close). */
  closeReplica(replicaId: string): ReplicaRecord | undefined {
    const r = this.replicas.get(replicaId);
    if (!r) return undefined;
    r.state = 'closed';
    r.producerId = null;
    this.replicas.delete(replicaId);
    this.health.forget(replicaId);
    return r;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const id of [...this.replicas.keys()]) this.closeReplica(id);
  }
}
