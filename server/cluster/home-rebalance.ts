// Moving nodes back (the leader's rebalance), pure (fake clock in tests): a
// node whose server died moves to the next server in its list and stays, so
// nodes pile up on the longest-lived server and a session's replicas come to
// share a home server. When a server (re)joins (or a new leader starts: it
// cannot know what joined just before), the rebalance is armed until the homes
// are as even as one move can make them; while armed and one live server homes
// at least two nodes more than another that has been up a while, the leader
// directs one node at a time to move there (the caller writes the directive fenced; the node
// re-produces its replicas at the new home without rebuilding them). A node
// moves only while the cluster is settled (every replica the table names on a
// node in the directory, on a live server), never while one of its replicas is
// the only live one of its session, is shown to a viewer, or has no report (its
// home server's word on state and watching is all there is). Hysteresis: a
// spread of one is left alone (moving would only invert it), nodes that
// connect unevenly while no server joined keep the homes their operators gave
// them first, a server must be
// up `settleMs` before it takes nodes, nothing moves within `gapMs` of the last
// move ending, and a node that moved is not moved again within `nodeCooldownMs`.
import type { ClusterNodeInfo, RehomeDirective, SessionPlacement } from '../../protocol/cluster-state.js';
import type { SessionHealthView } from './cluster-placement-types.js';

export interface HomeRebalanceOptions {
  /** A server must have been in the registry this long before a node is moved to it. */
  settleMs: number;
  /** Nothing moves within this long of the last move ending (done or expired). */
  gapMs: number;
  /** A node that moved (or was told to) is not told again within this long. */
  nodeCooldownMs: number;
  /** A directive not carried out within this long is void. */
  directiveTtlMs: number;
}

export interface RebalanceInput {
  /** The live servers (the registry). */
  servers: ReadonlyArray<{ id: string; url: string }>;
  /** The node directory. */
  nodes: readonly ClusterNodeInfo[];
  table: ReadonlyMap<string, SessionPlacement>;
  health: ReadonlyMap<string, SessionHealthView>;
  /** The directives standing in etcd now. */
  directives: readonly RehomeDirective[];
}

export type RebalanceStep =
  | {
      kind: 'issue';
      nodeId: string;
      fromServerId: string;
      toServerId: string;
      toUrl: string;
      expiresAt: number;
      why: string;
    }
  | { kind: 'clear'; directive: RehomeDirective; why: string }
  | { kind: 'none'; why: string };

export class HomeRebalancer {
  readonly #o: HomeRebalanceOptions;
  /** Server id → when this rebalancer first saw it in the registry (continuously since). */
  readonly #firstSeen = new Map<string, number>();
  /** Node id → when it was last told to move. */
  readonly #toldAt = new Map<string, number>();
  /** When the last move ended (done, expired or void); null: none yet. */
  #lastEnded: number | null = null;
  /** A server joined since the homes were last even (every server is new to a new leader). */
  #armed = false;

  constructor(options: HomeRebalanceOptions) {
    this.#o = options;
  }

  /** The one thing to do now: clear a directive that is done or void, issue one, or nothing (and why). */
  step(input: RebalanceInput, now: number): RebalanceStep {
    const live = new Map(input.servers.map((s) => [s.id, s]));
    for (const id of [...this.#firstSeen.keys()]) if (!live.has(id)) this.#firstSeen.delete(id);
    for (const id of live.keys()) {
      if (this.#firstSeen.has(id)) continue;
      this.#firstSeen.set(id, now);
      this.#armed = true;
    }
    for (const [id, at] of this.#toldAt) if (now - at >= this.#o.nodeCooldownMs) this.#toldAt.delete(id);

    // A node listed twice (it just moved; its old server's lease has not run out): the live home wins.
    const byId = new Map<string, ClusterNodeInfo>();
    for (const n of input.nodes) {
      const seen = byId.get(n.nodeId);
      if (!seen || (!live.has(seen.homeServerId) && live.has(n.homeServerId))) byId.set(n.nodeId, n);
    }

    // One move at a time: a standing directive is waited for, or cleared once done or void.
    for (const d of input.directives) {
      // A directive this rebalancer did not issue (a former leader's) still holds the node's cooldown.
      if (!this.#toldAt.has(d.nodeId) && now - d.issuedAt < this.#o.nodeCooldownMs) {
        this.#toldAt.set(d.nodeId, Math.min(d.issuedAt, now));
      }
      const at = byId.get(d.nodeId)?.homeServerId;
      let why: string | null = null;
      if (at === d.toServerId) why = `node ${d.nodeId} is homed on ${d.toServerId} now`;
      else if (now >= d.expiresAt) why = `node ${d.nodeId} did not move to ${d.toServerId} in time`;
      else if (!live.has(d.toServerId)) why = `target ${d.toServerId} left the cluster`;
      if (why !== null) {
        this.#lastEnded = now;
        return { kind: 'clear', directive: d, why };
      }
    }
    if (input.directives.length > 0) return { kind: 'none', why: 'a move is under way' };
    if (this.#lastEnded !== null && now - this.#lastEnded < this.#o.gapMs) {
      return { kind: 'none', why: 'the last move ended too recently' };
    }

    // Settled: every replica the table names runs on a node in the directory, homed on a live server.
    for (const p of input.table.values()) {
      for (const r of p.replicas) {
        const n = byId.get(r.nodeId);
        if (!n || !live.has(n.homeServerId) || r.missingSince !== undefined) {
          return { kind: 'none', why: `replica ${r.replicaId} is not settled on a live home` };
        }
      }
    }

    // Nodes per live server; a node homed on a server not in the registry is moving anyway.
    const homed = new Map<string, ClusterNodeInfo[]>([...live.keys()].map((id) => [id, []]));
    for (const n of byId.values()) homed.get(n.homeServerId)?.push(n);
    const order = [...homed.entries()].sort(([a, x], [b, y]) => y.length - x.length || (a < b ? -1 : 1));
    const source = order[0];
    const least = order[order.length - 1];
    if (!source || !least || source[1].length - least[1].length < 2) {
      this.#armed = false;
      return { kind: 'none', why: 'the homes are as even as one move can make them' };
    }
    if (!this.#armed) return { kind: 'none', why: 'no server joined since the homes were last even' };
    const target = order
      .filter(
        ([id, ns]) => ns.length <= source[1].length - 2 && now - (this.#firstSeen.get(id) ?? now) >= this.#o.settleMs,
      )
      .sort(([a, x], [b, y]) => x.length - y.length || (a < b ? -1 : 1))[0];
    if (!target) return { kind: 'none', why: 'the underloaded servers have not been up long enough' };
    const [fromServerId, onSource] = source;
    const [toServerId] = target;
    const toUrl = live.get(toServerId)?.url;
    if (toUrl === undefined) return { kind: 'none', why: `no URL for ${toServerId}` };

    const refusals: string[] = [];
    const candidates = onSource
      .flatMap((n) => {
        const blocked = this.#blocked(n, input, byId, live);
        if (blocked !== null) {
          refusals.push(`${n.nodeId}: ${blocked}`);
          return [];
        }
        const mine = replicasOf(n.nodeId, input.table);
        // Prefer a node none of whose sessions the target already homes (no new shared home), then the lightest.
        const sharing = mine.filter(({ session }) =>
          session.replicas.some((r) => r.nodeId !== n.nodeId && byId.get(r.nodeId)?.homeServerId === toServerId),
        ).length;
        return [{ n, sharing, load: mine.length }];
      })
      .sort((a, b) => a.sharing - b.sharing || a.load - b.load || (a.n.nodeId < b.n.nodeId ? -1 : 1));
    const pick = candidates[0];
    if (!pick) return { kind: 'none', why: `no node on ${fromServerId} may move (${refusals.join('; ')})` };
    this.#toldAt.set(pick.n.nodeId, now);
    return {
      kind: 'issue',
      nodeId: pick.n.nodeId,
      fromServerId,
      toServerId,
      toUrl,
      expiresAt: now + this.#o.directiveTtlMs,
      why: `${fromServerId} homes ${onSource.length} nodes, ${toServerId} ${target[1].length}: ${pick.n.nodeId} moves`,
    };
  }

  /** Why this node must stay where it is, or null when it may move. */
  #blocked(
    n: ClusterNodeInfo,
    input: RebalanceInput,
    byId: ReadonlyMap<string, ClusterNodeInfo>,
    live: ReadonlyMap<string, unknown>,
  ): string | null {
    if (this.#toldAt.has(n.nodeId)) return 'moved recently';
    for (const { session, replicaId } of replicasOf(n.nodeId, input.table)) {
      const reports = input.health.get(session.sessionId)?.replicas ?? [];
      const report = reports.find((r) => r.replicaId === replicaId && r.nodeId === n.nodeId);
      if (!report) return `${replicaId} has no report from its home server`;
      if (report.watched === true) return `${replicaId} is shown to a viewer`;
      const otherLive = session.replicas.some((r) => {
        if (r.nodeId === n.nodeId) return false;
        const home = byId.get(r.nodeId)?.homeServerId;
        const state = reports.find((x) => x.replicaId === r.replicaId && x.nodeId === r.nodeId)?.state;
        return home !== undefined && live.has(home) && state === 'live';
      });
      if (!otherLive) return `${replicaId} is the only live replica of ${session.sessionId}`;
    }
    return null;
  }
}

function replicasOf(
  nodeId: string,
  table: ReadonlyMap<string, SessionPlacement>,
): Array<{ session: SessionPlacement; replicaId: string }> {
  return [...table.values()].flatMap((session) =>
    session.replicas.filter((r) => r.nodeId === nodeId).map((r) => ({ session, replicaId: r.replicaId })),
  );
}
