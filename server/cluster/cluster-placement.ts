// The leader's placement over the whole cluster, pure (fake clock in tests):
// from the node directory, the live servers, the current placement table and
// what home servers report, it decides each open session's entry. A replica
// stays where it is while its node is in the directory (a node that moved home
// keeps its entry, with its new home) or has been missing for less than the
// hold window (it may be re-homing: the time it went is written into its
// table entry, so a new leader continues the window rather than restarting
// it); one its home server reports failed, or whose node stayed away past the
// window, is dropped and another placed by
// planHomeSpread (distinct hosts, admissions and, where possible, home
// servers). So a new leader that reads the same table keeps every healthy
// replica where it runs. Typed app failures home servers relay are counted
// here (app-failure-vote.ts: hosts from this leader's own view); a quorum of
// hosts at one seq writes the session's failed state into its entry, and
// nothing more is placed for it. The caller writes the changes (fenced).
import type { ClusterNodeInfo, PlacedReplica, SessionPlacement } from '../../protocol/cluster-state.js';
import { tallyAppFailures } from '../session-core/app-failure-vote.js';
import { replicaOrdinal } from '../session-core/replica-adoption.js';
import { voteOnHashes } from '../session-core/replica-health.js';
import type { HashReport, HashVote } from '../session-core/replica-health-types.js';
import type {
  ClusterPlacementInput,
  ClusterPlacerOptions,
  PlacedSessionView,
  PlacementChange,
  SessionHealthView,
} from './cluster-placement-types.js';
import { planHomeSpread, type ClusterNodeView } from './home-spread.js';

export type * from './cluster-placement-types.js';

const NO_HEALTH: SessionHealthView = { failed: [], quarantinedHosts: [] };

export class ClusterPlacer {
  readonly #holdMs: number;
  /**
   * Nodes the table names that are missing from the directory: since when. A
   * new leader takes it from the table (each replica's `missingSince`, written
   * by the leader that first saw the node go), so the hold window survives a
   * hand-over; a time ahead of this leader's clock counts as now.
   */
  readonly #missingSince = new Map<string, number>();
  /** The last directory entry seen per node: a missing node's host still counts as used. */
  readonly #lastSeen = new Map<string, ClusterNodeInfo>();

  constructor(options: ClusterPlacerOptions) {
    this.#holdMs = options.holdMs;
  }

  /** The entries to write (only those that change) and to remove (sessions no longer open). */
  plan(input: ClusterPlacementInput, now: number): PlacementChange[] {
    // A node that just moved home is listed twice until its old server's lease expires: the live home wins.
    const byId = new Map<string, ClusterNodeInfo>();
    for (const n of input.nodes) {
      const seen = byId.get(n.nodeId);
      if (!seen || (!input.servers.has(seen.homeServerId) && input.servers.has(n.homeServerId))) byId.set(n.nodeId, n);
    }
    const nodes = [...byId.values()];
    for (const n of nodes) this.#lastSeen.set(n.nodeId, n);
    const named = new Set<string>();
    for (const p of input.table.values()) for (const r of p.replicas) named.add(r.nodeId);
    for (const id of [...this.#missingSince.keys()]) if (byId.has(id) || !named.has(id)) this.#missingSince.delete(id);
    for (const id of [...this.#lastSeen.keys()]) if (!byId.has(id) && !named.has(id)) this.#lastSeen.delete(id);
    for (const p of input.table.values()) {
      for (const r of p.replicas) {
        if (r.missingSince === undefined || byId.has(r.nodeId)) continue;
        const since = Math.min(r.missingSince, now);
        this.#missingSince.set(r.nodeId, Math.min(since, this.#missingSince.get(r.nodeId) ?? since));
      }
    }
    for (const id of named) if (!byId.has(id) && !this.#missingSince.has(id)) this.#missingSince.set(id, now);

    // Replicas per node as the table has them, raised as this pass places more.
    const counts = new Map<string, number>();
    for (const p of input.table.values())
      for (const r of p.replicas) counts.set(r.nodeId, (counts.get(r.nodeId) ?? 0) + 1);

    const changes: PlacementChange[] = [];
    const open = new Set(input.sessions.map((s) => s.sessionId));
    for (const sessionId of input.table.keys()) if (!open.has(sessionId)) changes.push({ kind: 'remove', sessionId });
    for (const session of input.sessions) {
      const change = this.#session(session, input, nodes, byId, counts, now);
      if (change) changes.push(change);
    }
    return changes;
  }

  #session(
    session: PlacedSessionView,
    input: ClusterPlacementInput,
    nodes: readonly ClusterNodeInfo[],
    byId: ReadonlyMap<string, ClusterNodeInfo>,
    counts: Map<string, number>,
    now: number,
  ): PlacementChange | null {
    const { sessionId } = session;
    const current = input.table.get(sessionId);
    const health = input.health.get(sessionId) ?? NO_HEALTH;
    const quarantined = new Set([...(current?.quarantinedHosts ?? []), ...health.quarantinedHosts]);
    for (const f of health.failed) if (f.cause === 'diverged') quarantined.add(f.hostId);
    const reasons: string[] = [];
    // The hash vote over every home server's reports: each server alone sees only the replicas it homes.
    const vote = clusterVote(current, health);
    for (const replicaId of vote.minority) {
      const r = current?.replicas.find((x) => x.replicaId === replicaId);
      const host = r && (byId.get(r.nodeId) ?? this.#lastSeen.get(r.nodeId))?.hostId;
      if (!host) continue;
      quarantined.add(host);
      reasons.push(
        `${replicaId} diverged at seq ${vote.seq} from majority ${vote.majorityHash}: host ${host} quarantined`,
      );
    }
    // App failures: counted against this leader's table and directory, never a report's word on hosts.
    const tally = tallyAppFailures(
      current?.appFailureVotes ?? [],
      health.appFailures ?? [],
      (current?.replicas ?? []).map((r) => {
        const known = byId.get(r.nodeId) ?? this.#lastSeen.get(r.nodeId);
        return {
          ...r,
          homeServerId: byId.get(r.nodeId)?.homeServerId ?? r.homeServerId,
          hostId: known?.hostId ?? null,
        };
      }),
      session.replicationFactor,
    );
    for (const i of tally.ignored)
      reasons.push(`app failure of ${i.replicaId} from ${i.serverId} not counted: ${i.why}`);
    const appFailure = current?.appFailure ?? tally.failure;
    if (appFailure && !current?.appFailure) {
      reasons.push(
        `the app failed at input ${appFailure.seq} on a quorum of hosts and home servers (${appFailure.reason}): session failed`,
      );
    }
    const keep: PlacedReplica[] = [];
    const usedHosts = new Set<string>();
    for (const r of current?.replicas ?? []) {
      const failure = health.failed.find((f) => f.replicaId === r.replicaId && f.nodeId === r.nodeId);
      const node = byId.get(r.nodeId);
      const known = node ?? this.#lastSeen.get(r.nodeId);
      let drop: string | null = null;
      if (failure) drop = `its home server reports it ${failure.cause}`;
      else if (known && quarantined.has(known.hostId)) drop = `host ${known.hostId} is quarantined in this session`;
      else if (known && usedHosts.has(known.hostId)) drop = `host ${known.hostId} already runs a replica of it`;
      else if (!node && now - (this.#missingSince.get(r.nodeId) ?? now) >= this.#holdMs) {
        drop = `node ${r.nodeId} left the directory and did not come back within ${this.#holdMs} ms`;
      }
      if (drop !== null) {
        reasons.push(`${r.replicaId} on ${r.nodeId} re-placed: ${drop}`);
        counts.set(r.nodeId, Math.max(0, (counts.get(r.nodeId) ?? 1) - 1));
        continue;
      }
      if (known) usedHosts.add(known.hostId);
      // A node that moved home keeps its replica: the entry follows it to its new server.
      // A missing one keeps it with the time it went, so the next leader's hold window continues.
      const { missingSince: _was, ...entry } = r;
      const since = this.#missingSince.get(r.nodeId);
      keep.push(node ? { ...entry, homeServerId: node.homeServerId } : { ...entry, missingSince: since ?? now });
    }
    // Above the factor: a spread replica (below) went live and one sharing a home goes, or the factor shrank.
    const report = reportsByReplica(health);
    const isLive = (r: PlacedReplica): boolean => report.get(replicaKey(r))?.state === 'live';
    for (;;) {
      const surplus = pickSurplus(keep, session.replicationFactor, isLive, (r) => report.get(replicaKey(r))?.watched);
      if (surplus === null) break;
      keep.splice(keep.indexOf(surplus.replica), 1);
      reasons.push(`${surplus.replica.replicaId} on ${surplus.replica.nodeId} dropped: ${surplus.why}`);
      counts.set(surplus.replica.nodeId, Math.max(0, (counts.get(surplus.replica.nodeId) ?? 1) - 1));
    }
    let nextOrdinal = Math.max(current?.nextOrdinal ?? 1, ...ordinalsAfter(sessionId, current, health));
    const replicas = [...keep];
    const knownOf = (r: PlacedReplica): ClusterNodeInfo | undefined =>
      byId.get(r.nodeId) ?? this.#lastSeen.get(r.nodeId);
    const avoid = new Set(health.failed.map((f) => f.nodeId));
    const pool = (): ClusterNodeView[] =>
      nodes
        .filter((n) => input.servers.has(n.homeServerId) && !avoid.has(n.nodeId))
        .map((n) => ({ ...n, replicaCount: Math.max(n.replicaCount, counts.get(n.nodeId) ?? 0) }));
    const spreadRequest = (want: number) => ({
      sessionId,
      app: session.app,
      want,
      excludeHosts: [...keep.flatMap((r) => knownOf(r)?.hostId ?? []), ...quarantined],
      excludeAdmissions: keep.flatMap((r) => knownOf(r)?.admissionId ?? []),
      excludeHomes: keep.map((r) => r.homeServerId),
    });
    const add = (n: ClusterNodeView): void => {
      replicas.push({
        replicaId: `${sessionId}.r${nextOrdinal++}`,
        nodeId: n.nodeId,
        homeServerId: n.homeServerId,
        mode: 'hot',
      });
      counts.set(n.nodeId, (counts.get(n.nodeId) ?? 0) + 1);
    };
    // A failed app fails again on the same input wherever it runs: nothing is placed for it.
    const want = appFailure ? 0 : session.replicationFactor - keep.length;
    if (want > 0) {
      const plan = planHomeSpread(pool(), spreadRequest(want));
      for (const n of plan.chosen) add(n);
      reasons.push(...plan.reasons);
    } else if (
      !appFailure &&
      keep.length === session.replicationFactor &&
      sharedHome(keep) !== null &&
      health.failed.length === 0 &&
      keep.every((r) => isLive(r) && byId.has(r.nodeId) && input.servers.has(r.homeServerId))
    ) {
      // Two replicas share a home server (a node moved home after its server died): one more server death
      // would take every stream a viewer has at once. A node on a home the session does not use gets one
      // more replica; once it is live, a replica sharing a home goes (pickSurplus), never the other way round.
      const plan = planHomeSpread(pool(), spreadRequest(1));
      const pick = plan.chosen[0];
      if (pick && plan.sharedHomes === 0) {
        add(pick);
        reasons.push(
          `spread: home server ${sharedHome(keep) ?? '?'} homes two replicas; one more on ${pick.nodeId} (home ${pick.homeServerId})`,
        );
      }
    }
    const quarantinedHosts = [...quarantined].sort();
    const sameHosts = quarantinedHosts.join() === [...(current?.quarantinedHosts ?? [])].sort().join();
    const sameFailures =
      JSON.stringify(tally.votes) === JSON.stringify(current?.appFailureVotes ?? []) &&
      JSON.stringify(appFailure) === JSON.stringify(current?.appFailure ?? null);
    if (current ? sameReplicas(current.replicas, replicas) && sameHosts && sameFailures : replicas.length === 0) {
      return null;
    }
    return {
      kind: 'write',
      sessionId,
      replicas,
      nextOrdinal,
      quarantinedHosts,
      appFailureVotes: tally.votes,
      appFailure,
      reasons,
    };
  }
}

/** One past every replica ordinal the table or a report names: a new id never repeats one a node may still hold. */
function ordinalsAfter(sessionId: string, current: SessionPlacement | undefined, health: SessionHealthView): number[] {
  const ids = [...(current?.replicas ?? []).map((r) => r.replicaId), ...health.failed.map((f) => f.replicaId)];
  return ids.flatMap((id) => {
    const n = replicaOrdinal(sessionId, id);
    return n === null ? [] : [n + 1];
  });
}

/** The majority vote on state hashes at a common seq, over the replicas the table names (voteOnHashes' rule). */
function clusterVote(current: SessionPlacement | undefined, health: SessionHealthView): HashVote {
  const ballots: HashReport[] = [];
  for (const r of health.replicas ?? []) {
    const named = current?.replicas.some((p) => p.replicaId === r.replicaId && p.nodeId === r.nodeId);
    if (named && r.stateHash !== null)
      ballots.push({ replicaId: r.replicaId, seq: r.appliedSeq, stateHash: r.stateHash });
  }
  return voteOnHashes(ballots);
}

const replicaKey = (r: { replicaId: string; nodeId: string }): string => `${r.replicaId}\u0000${r.nodeId}`;

type ReplicaReport = NonNullable<SessionHealthView['replicas']>[number];

function reportsByReplica(health: SessionHealthView): Map<string, ReplicaReport> {
  return new Map((health.replicas ?? []).map((r) => [replicaKey(r), r]));
}

/** A home server that homes more than one of `replicas`, or null. */
function sharedHome(replicas: readonly PlacedReplica[]): string | null {
  const seen = new Set<string>();
  for (const r of replicas) {
    if (seen.has(r.homeServerId)) return r.homeServerId;
    seen.add(r.homeServerId);
  }
  return null;
}

/**
 * The replica to drop while more than `factor` are kept, or null. One more than the factor on a home of
 * its own and not live yet is a spread replica catching up: nothing goes until it is live. Then one
 * sharing a home goes, one no viewer watches (its home server's word) before a watched one, the last
 * in table order first; with no shared home, the last in table order (the factor shrank).
 */
function pickSurplus(
  keep: readonly PlacedReplica[],
  factor: number,
  isLive: (r: PlacedReplica) => boolean,
  watched: (r: PlacedReplica) => boolean | undefined,
): { replica: PlacedReplica; why: string } | null {
  if (keep.length <= factor) return null;
  const homeCount = new Map<string, number>();
  for (const r of keep) homeCount.set(r.homeServerId, (homeCount.get(r.homeServerId) ?? 0) + 1);
  const sharing = keep.filter((r) => (homeCount.get(r.homeServerId) ?? 0) > 1);
  const catchingUp = keep.filter((r) => !isLive(r));
  const spreading =
    keep.length === factor + 1 &&
    sharing.length > 0 &&
    catchingUp.length === 1 &&
    catchingUp.every((r) => homeCount.get(r.homeServerId) === 1);
  if (spreading) return null;
  if (sharing.length > 0 && catchingUp.length === 0) {
    const pick = [...sharing].reverse().find((r) => watched(r) !== true) ?? sharing[sharing.length - 1];
    if (pick)
      return { replica: pick, why: `home server ${pick.homeServerId} homes another replica of the session (spread)` };
  }
  const last = keep[keep.length - 1];
  return last ? { replica: last, why: 'more replicas than the replication factor' } : null;
}

function sameReplicas(a: readonly PlacedReplica[], b: readonly PlacedReplica[]): boolean {
  return (
    a.length === b.length &&
    a.every(
      (r, i) =>
        r.replicaId === b[i]?.replicaId &&
        r.nodeId === b[i]?.nodeId &&
        r.homeServerId === b[i]?.homeServerId &&
        r.mode === b[i]?.mode &&
        r.missingSince === b[i]?.missingSince,
    )
  );
}
