// When an app failure is the app's and not one host's: replicas on a quorum of
// distinct hosts (a majority of the session's R, never fewer than two) failing
// at the same input. On one server the core counts its own nodes' reports
// (session.ts noteAppFailure); in a cluster the leader counts every home
// server's relayed failures here, and only those it can vouch for from its own
// view: the replica is one its table placed on that node, homed on the server
// that relayed it, and the host is the one its directory knows the node by
// (never the report's). In a cluster the votes must also come through a quorum
// of distinct home servers: one server relaying failures for several hosts it
// homes (or claims to) cannot fail a session alone (issue 13). Counted votes
// are kept in the fenced placement entry, so a replica re-placed after
// failing, or a new leader, loses none. Pure.
import type { AppFailureVote } from '../../protocol/cluster-state.js';
import type { AppFailure, AppFailureReason } from '../../protocol/replica-failure.js';
import { snapshotQuorum } from './snapshot-checkpoint.js';

/** Votes kept per host: a host reporting ever new seqs only pushes out its own older ones. */
export const MAX_VOTES_PER_HOST = 4;
/** Votes kept per session (the placement entry's bound). */
export const MAX_APP_FAILURE_VOTES = 64;

/**
 * Distinct hosts whose replicas must fail at one seq before the app counts as
 * failed there: a majority of the session's hosts, and never fewer than two,
 * so one hostile node can never stop a session.
 */
export function appFailureQuorum(replicationFactor: number): number {
  return snapshotQuorum(replicationFactor);
}

/** One failure a home server relayed (its own word on the host is not part of it). */
export interface RelayedAppFailure {
  serverId: string;
  replicaId: string;
  nodeId: string;
  seq: number;
  reason: AppFailureReason;
  message: string;
}

/** A replica as the leader's table places it, with the host its directory knows the node by (null: unknown). */
export interface PlacedReplicaHost {
  replicaId: string;
  nodeId: string;
  homeServerId: string;
  hostId: string | null;
}

export interface AppFailureTally {
  /** The votes to keep (prior ones and those counted now), bounded. */
  votes: AppFailureVote[];
  /** Set when a quorum of distinct hosts, relayed by a quorum of distinct home servers, failed at one seq (the lowest). */
  failure: AppFailure | null;
  /** Relayed failures not counted, and why (for the leader's log). */
  ignored: Array<{ replicaId: string; serverId: string; why: string }>;
}

export function tallyAppFailures(
  prior: readonly AppFailureVote[],
  relayed: readonly RelayedAppFailure[],
  placed: readonly PlacedReplicaHost[],
  replicationFactor: number,
): AppFailureTally {
  const byReplica = new Map(placed.map((p) => [p.replicaId, p]));
  const votes = [...prior];
  const ignored: AppFailureTally['ignored'] = [];
  for (const f of relayed) {
    const p = byReplica.get(f.replicaId);
    const hostId = p?.nodeId === f.nodeId && p.homeServerId === f.serverId ? p.hostId : null;
    if (!p || hostId === null) {
      const why =
        p?.nodeId !== f.nodeId
          ? 'the table does not place that replica on that node'
          : p.homeServerId !== f.serverId
            ? 'the replica is not homed on the server that relayed it'
            : "the node's host is unknown here";
      ignored.push({ replicaId: f.replicaId, serverId: f.serverId, why });
      continue;
    }
    if (votes.some((v) => v.hostId === hostId && v.seq === f.seq)) continue;
    votes.push({ hostId, serverId: f.serverId, seq: f.seq, reason: f.reason, message: f.message });
    const own = votes.filter((v) => v.hostId === hostId);
    if (own.length > MAX_VOTES_PER_HOST) votes.splice(votes.indexOf(own[0] as AppFailureVote), 1);
  }
  const kept = votes.slice(-MAX_APP_FAILURE_VOTES);
  const quorum = appFailureQuorum(replicationFactor);
  const bySeq = new Map<number, AppFailureVote[]>();
  for (const v of kept) bySeq.set(v.seq, [...(bySeq.get(v.seq) ?? []), v]);
  let failure: AppFailure | null = null;
  for (const [seq, at] of [...bySeq].sort((a, b) => a[0] - b[0])) {
    if (new Set(at.map((v) => v.hostId)).size < quorum) continue;
    if (new Set(at.flatMap((v) => (v.serverId === undefined ? [] : [v.serverId]))).size < quorum) continue;
    const first = at[0] as AppFailureVote;
    failure = { seq, reason: first.reason, message: first.message };
    break;
  }
  return { votes: kept, failure, ignored };
}
