// The leader's rule for a cluster-wide checkpoint: which relayed answers count
// and whether they reach the quorum. An answer counts only when the placement
// table puts that replica on a node homed on the server that relayed it (a
// server cannot vote for another's replicas), and hosts come from the
// leader's own view of nodes, never from the report. The quorum is the one
// snapshot-checkpoint.ts applies on a single server. Pure: no etcd, no clock.
import type { CheckpointReport } from '../../protocol/cluster-state.js';
import { SnapshotCheckpoint } from './snapshot-checkpoint.js';

/** A replica as the leader's table places it, with the host the leader knows its node by. */
export interface PlacedTarget {
  replicaId: string;
  hostId: string;
  homeServerId: string;
}

export interface ClusterCheckpointDecision {
  seq: number;
  stateHash: string;
  hosts: string[];
  /** One agreeing answer whose stored chunks the leader reads (and re-hashes). */
  source: { serverId: string; replicaId: string; bytes: number; chunks: number };
}

export function decideClusterCheckpoint(
  seq: number,
  placed: readonly PlacedTarget[],
  reports: readonly CheckpointReport[],
  sessionHosts: number,
): ClusterCheckpointDecision | null {
  const checkpoint = new SnapshotCheckpoint(seq, placed, sessionHosts, 0);
  const byReplica = new Map(placed.map((p) => [p.replicaId, p]));
  const sources = new Map<string, ClusterCheckpointDecision['source']>();
  for (const report of reports) {
    if (report.seq !== seq) continue;
    for (const a of report.answers) {
      if (byReplica.get(a.replicaId)?.homeServerId !== report.serverId) continue;
      checkpoint.report(a.replicaId, seq, a.stateHash, Buffer.alloc(0));
      if (!sources.has(a.stateHash)) {
        sources.set(a.stateHash, {
          serverId: report.serverId,
          replicaId: a.replicaId,
          bytes: a.bytes,
          chunks: a.chunks,
        });
      }
    }
  }
  const d = checkpoint.decision();
  const source = d && sources.get(d.stateHash);
  return d && source ? { seq, stateHash: d.stateHash, hosts: d.hosts, source } : null;
}
