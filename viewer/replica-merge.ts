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
  session: SessionInfo;
  /** replicaId → the server homing it. */
  homes: Map<string, string>;
}

/** A report that can be consumed beats one that cannot; then the newer one. */
function better(a: { r: ReplicaInfo; at: number }, b: { r: ReplicaInfo; at: number }): boolean {
  const usable = (r: ReplicaInfo): number => (r.state !== 'closed' && r.producerId !== null ? 1 : 0);
  if (usable(a.r) !== usable(b.r)) return usable(a.r) > usable(b.r);
  return a.at > b.at;
}

/**
 * Merges the views of one session from several servers (the first view, the
 * preferred server's, gives the session's own fields); null when there is
 * none. The head is the highest any server reported.
 */
export function mergeSessions(views: readonly ServerSessionView[]): MergedSession | null {
  const first = views[0];
  if (!first) return null;
  const chosen = new Map<string, { r: ReplicaInfo; at: number; url: string }>();
  let headSeq = 0;
  for (const v of views) {
    if (v.session.sessionId !== first.session.sessionId) continue;
    headSeq = Math.max(headSeq, v.session.headSeq);
    for (const r of v.session.replicas) {
      const candidate = { r, at: v.receivedAt, url: v.url };
      const prev = chosen.get(r.replicaId);
      if (!prev || better(candidate, prev)) chosen.set(r.replicaId, candidate);
    }
  }
  const replicas = [...chosen.values()].map((c) => c.r);
  const homes = new Map([...chosen].map(([id, c]) => [id, c.url]));
  return { session: { ...first.session, headSeq, replicas }, homes };
}
