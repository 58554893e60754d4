// Types of the per-replica health view. The tracker is pure: every input
// carries its own `now`, so tests and replays drive time explicitly.
import type { ReplicaHealth, ReplicaVerdict } from '../../protocol/session.js';

export type HealthVerdict = ReplicaVerdict;

export interface HealthThresholds {
  /** No status for more than this = stale, even if the socket is open (hung process). */
  staleAfterMs: number;
  /** No status for more than this = dead. */
  deadAfterMs: number;
  /** Lag of more than this many seqs behind the head = lagging. */
  laggingSeq: number;
  /** (seq, stateHash) pairs kept per replica for voting. */
  hashHistory: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: Readonly<HealthThresholds> = Object.freeze({
  staleAfterMs: 1500,
  deadAfterMs: 5000,
  laggingSeq: 50,
  hashHistory: 16,
});

/** The body of a `replica.status` report. */
export interface ReplicaStatusReport {
  appliedSeq: number;
  stateHash: string;
  framesSent: number;
  /** The node sends no frames because nobody watches the stream (warm standby): not a stall. */
  videoIdle?: boolean;
}

export type HealthReason = 'ok' | 'no-status' | 'frames-stalled' | 'lag';

export interface ReplicaAssessment {
  replicaId: string;
  health: ReplicaHealth;
  verdict: HealthVerdict;
  /** What decided the verdict. */
  reason: HealthReason;
  appliedSeq: number;
  stateHash: string | null;
}

export interface HashReport {
  replicaId: string;
  seq: number;
  stateHash: string;
}

export interface HashVote {
  /** Seq the vote was held at; null when no seq was reported by 2+ replicas. */
  seq: number | null;
  /** Hash held by more than half of the voters; null on a tie or no vote. */
  majorityHash: string | null;
  /** Voters that disagree with the majority (empty without a majority), sorted. */
  minority: string[];
  /** Replicas that reported at `seq`, sorted. */
  voters: string[];
}
