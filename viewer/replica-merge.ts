// One session as the viewer sees it across servers: every server reports the
// replicas it homes (produced into its own SFU); the viewer consumes each from
// its home, so it merges those lists and remembers which server homes which
// replica. Pure.
import type { ReplicaInfo, SessionInfo } from '../protocol/session.js';

export interface ServerSessionView {
  /** The server (its origin) that sent this view. */
  url: string;
  session: SessionInfo;
  /** When it was received (a later report of the same replica wins a tie). */
  receivedAt: number;
}

export interface MergedSession {
  /** The session with every server's replicas, under their viewer ids (see viewerReplicaId). */
  session: SessionInfo;
  /** viewer replica id → the server homing it. */
  homes: Map<string, string>;
  /** viewer replica id → the id its home server knows it by. */
  wireIds: Map<string, string>;
  /** (server, the id that server uses) → viewer replica id. */
  viewerIds: Map<string, string>;
}

/**
 * The id the viewer keys a replica by. Servers name their replicas per
 * session (`<session>.r1`…), so two servers may each home a different
 * `….r1`: a replica reported by a server other than the page's own is keyed
 * with its node too. Stable while its home stays (a rename would re-consume it).
 */
export function viewerReplicaId(primary: string, url: string, r: ReplicaInfo): string {
  return url === primary ? r.replicaId : `${r.replicaId}@${r.nodeId}`;
}

const serverKey = (url: string, replicaId: string): string => `${url}\u0000${replicaId}`;

/** A report that can be consumed beats one that cannot; then the newer one. */
function better(a: { r: ReplicaInfo; at: number }, b: { r: ReplicaInfo; at: number }): boolean {
  const usable = (r: ReplicaInfo): number => (r.state !== 'closed' && r.producerId !== null ? 1 : 0);
  if (usable(a.r) !== usable(b.r)) return usable(a.r) > usable(b.r);
  return a.at > b.at;
}

/**
 * Merges the views of one session from several servers (`primary`, the
 * page's own server, gives the session's own fields when it has a view; else
 * the first); null when there is none. The head is the highest any server
 * reported. One replica reported by two servers (same id and node: its node
 * moved home) is taken once, from the report that can stream.
 */
export function mergeSessions(primary: string, views: readonly ServerSessionView[]): MergedSession | null {
  const base = views.find((v) => v.url === primary) ?? views[0];
  if (!base) return null;
  const chosen = new Map<string, { r: ReplicaInfo; at: number; url: string }>();
  let headSeq = 0;
  for (const v of views) {
    if (v.session.sessionId !== base.session.sessionId) continue;
    headSeq = Math.max(headSeq, v.session.headSeq);
    for (const r of v.session.replicas) {
      const candidate = { r, at: v.receivedAt, url: v.url };
      const key = `${r.replicaId}\u0000${r.nodeId}`;
      const prev = chosen.get(key);
      if (!prev || better(candidate, prev)) chosen.set(key, candidate);
    }
  }
  const replicas: ReplicaInfo[] = [];
  const homes = new Map<string, string>();
  const wireIds = new Map<string, string>();
  const viewerIds = new Map<string, string>();
  for (const c of chosen.values()) {
    const id = viewerReplicaId(primary, c.url, c.r);
    replicas.push(id === c.r.replicaId ? c.r : { ...c.r, replicaId: id });
    homes.set(id, c.url);
    wireIds.set(id, c.r.replicaId);
    viewerIds.set(serverKey(c.url, c.r.replicaId), id);
  }
  return { session: { ...base.session, headSeq, replicas }, homes, wireIds, viewerIds };
}

/** The viewer id of the replica `url` calls `replicaId` (for its notifications), if merged. */
export function viewerIdFor(m: MergedSession, url: string, replicaId: string): string | undefined {
  return m.viewerIds.get(serverKey(url, replicaId));
}
