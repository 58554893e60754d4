// Per-replica health for one session, and the state-hash vote between
// replicas. Pure bookkeeping: no timers, no clock; the caller passes `now`
// (ms) with every event and query.
import type { ReplicaHealth } from '../../protocol/session.js';
import {
  DEFAULT_HEALTH_THRESHOLDS,
  type HashReport,
  type HashVote,
  type HealthThresholds,
  type ReplicaAssessment,
  type ReplicaStatusReport,
} from './replica-health-types.js';

export * from './replica-health-types.js';

interface ReplicaRecord {
  /** Last status time, or the time tracking began if none arrived yet. */
  lastSeenAt: number;
  lastStatusAt: number | null;
  appliedSeq: number;
  stateHash: string | null;
  framesSent: number;
  /** Status time at which framesSent last moved. */
  framesMovedAt: number;
  /** Video has started; before that a flat counter is boot, not a stall. */
  videoStarted: boolean;
  producerScore: number | null;
  /** Its last status said nobody watches its stream, so it sends none (warm standby). */
  videoIdle: boolean;
  /** Recent (seq, hash) pairs, oldest first. */
  hashes: Array<{ seq: number; stateHash: string }>;
}

export class ReplicaHealthTracker {
  readonly thresholds: Readonly<HealthThresholds>;
  private readonly replicas = new Map<string, ReplicaRecord>();
  private head = 0;

  constructor(thresholds: Partial<HealthThresholds> = {}) {
    const t = { ...DEFAULT_HEALTH_THRESHOLDS, ...thresholds };
    if (!(t.staleAfterMs > 0) || !(t.deadAfterMs >= t.staleAfterMs) || !(t.laggingSeq >= 0) || !(t.hashHistory >= 1)) {
      throw new RangeError(`invalid health thresholds: ${JSON.stringify(t)}`);
    }
    this.thresholds = Object.freeze(t);
  }

  /**
   * Starts the heartbeat clock for a replica that has not reported yet, so one
   * that never reports still goes stale and dead. Idempotent.
   */
  track(replicaId: string, now: number): void {
    if (this.replicas.has(replicaId)) return;
    this.replicas.set(replicaId, {
      lastSeenAt: now,
      lastStatusAt: null,
      appliedSeq: 0,
      stateHash: null,
      framesSent: 0,
      framesMovedAt: now,
      videoStarted: false,
      producerScore: null,
      videoIdle: false,
      hashes: [],
    });
  }

  forget(replicaId: string): void {
    this.replicas.delete(replicaId);
  }

  has(replicaId: string): boolean {
    return this.replicas.has(replicaId);
  }

  /** Session head seq; it only moves forward. */
  setHeadSeq(headSeq: number): void {
    if (headSeq > this.head) this.head = headSeq;
  }

  get headSeq(): number {
    return this.head;
  }

  onStatus(replicaId: string, status: ReplicaStatusReport, now: number): void {
    this.track(replicaId, now);
    const r = this.replicas.get(replicaId);
    if (r === undefined) return;
    // A delayed report must not roll the view back.
    if (r.lastStatusAt !== null && now < r.lastStatusAt) return;

    if (r.lastStatusAt === null || status.framesSent !== r.framesSent || status.videoIdle === true) {
      // Any change counts as movement; a drop means the counter restarted; an
      // idle stream (nobody watches it) is not expected to move.
      r.framesMovedAt = now;
    }
    if (status.framesSent > 0) r.videoStarted = true;
    r.framesSent = status.framesSent;
    r.lastSeenAt = Math.max(r.lastSeenAt, now);
    r.lastStatusAt = now;
    r.appliedSeq = status.appliedSeq;
    r.stateHash = status.stateHash;
    r.videoIdle = status.videoIdle === true;

    const last = r.hashes[r.hashes.length - 1];
    if (last !== undefined && last.seq === status.appliedSeq) last.stateHash = status.stateHash;
    else r.hashes.push({ seq: status.appliedSeq, stateHash: status.stateHash });
    if (r.hashes.length > this.thresholds.hashHistory)
      r.hashes.splice(0, r.hashes.length - this.thresholds.hashHistory);
  }

  /**
   * mediasoup producer score (0..10). Reported, not judged: the SFU acts on it.
   * An idle stream (nobody watches it, so its node sends nothing) has no score
   * to report: the SFU's 0 for it says nothing about the host, and viewers
   * would rank an idle standby below a busy but ailing one.
   */
  onProducerScore(replicaId: string, score: number): void {
    const r = this.replicas.get(replicaId);
    if (r !== undefined) r.producerScore = score;
  }

  health(replicaId: string, now: number): ReplicaHealth | undefined {
    return this.assess(replicaId, now)?.health;
  }

  assess(replicaId: string, now: number): ReplicaAssessment | undefined {
    const r = this.replicas.get(replicaId);
    if (r === undefined) return undefined;
    const { staleAfterMs, deadAfterMs, laggingSeq } = this.thresholds;
    const health: ReplicaHealth = {
      heartbeatAgeMs: Math.max(0, now - r.lastSeenAt),
      lagSeq: Math.max(0, this.head - r.appliedSeq),
      producerScore: r.videoIdle ? null : r.producerScore,
    };
    const base = { replicaId, health, appliedSeq: r.appliedSeq, stateHash: r.stateHash };
    if (health.heartbeatAgeMs > deadAfterMs) return { ...base, verdict: 'dead', reason: 'no-status' };
    if (health.heartbeatAgeMs > staleAfterMs) return { ...base, verdict: 'stale', reason: 'no-status' };
    // Judged between statuses, not against `now`: silence is the heartbeat's job.
    if (r.videoStarted && r.lastStatusAt !== null && r.lastStatusAt - r.framesMovedAt > staleAfterMs) {
      return { ...base, verdict: 'stale', reason: 'frames-stalled' };
    }
    if (health.lagSeq > laggingSeq) return { ...base, verdict: 'lagging', reason: 'lag' };
    return { ...base, verdict: 'healthy', reason: 'ok' };
  }

  /** Every tracked replica, by replicaId. */
  assessAll(now: number): ReplicaAssessment[] {
    return [...this.replicas.keys()]
      .sort(compareIds)
      .map((id) => this.assess(id, now))
      .filter((a): a is ReplicaAssessment => a !== undefined);
  }

  /** Recent (seq, hash) reports of every replica, ready for voteOnHashes. */
  hashReports(): HashReport[] {
    const out: HashReport[] = [];
    for (const [replicaId, r] of this.replicas) {
      for (const h of r.hashes) out.push({ replicaId, seq: h.seq, stateHash: h.stateHash });
    }
    return out;
  }
}

function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Majority vote on state hashes. Only reports at one seq are comparable, so the
 * vote is held at the highest seq that at least two replicas reported. A
 * majority needs more than half of that seq's voters; a tie decides nothing
 * and names no one, since there is no evidence which side is wrong.
 */
export function voteOnHashes(reports: readonly HashReport[]): HashVote {
  // seq -> replicaId -> hash; a later report from the same replica at the same seq wins.
  const bySeq = new Map<number, Map<string, string>>();
  for (const r of reports) {
    let atSeq = bySeq.get(r.seq);
    if (atSeq === undefined) {
      atSeq = new Map<string, string>();
      bySeq.set(r.seq, atSeq);
    }
    atSeq.set(r.replicaId, r.stateHash);
  }

  let seq: number | null = null;
  for (const [s, atSeq] of bySeq) {
    if (atSeq.size >= 2 && (seq === null || s > seq)) seq = s;
  }
  const ballots = seq === null ? undefined : bySeq.get(seq);
  if (seq === null || ballots === undefined) return { seq: null, majorityHash: null, minority: [], voters: [] };

  const voters = [...ballots.keys()].sort(compareIds);
  const counts = new Map<string, number>();
  for (const hash of ballots.values()) counts.set(hash, (counts.get(hash) ?? 0) + 1);
  let majorityHash: string | null = null;
  for (const [hash, n] of counts) {
    if (n * 2 > voters.length) majorityHash = hash;
  }
  if (majorityHash === null) return { seq, majorityHash: null, minority: [], voters };
  const minority = voters.filter((id) => ballots.get(id) !== majorityHash);
  return { seq, majorityHash, minority, voters };
}
