// Adopting replicas a node kept running while it had no server (its server
// died and restarted, or the node moved to another server). Pure: the caller
// supplies what it knows of the sessions and the node and applies the plan.
// A node's announcement is a claim: it is adopted only where a fresh replica
// could have been placed on that node, and it goes live only once its state
// hash agrees with the session's other replicas (adoptionVouched).
import type { HeldReplica } from '../../protocol/signalling.js';
import { planPlacement, replicasToAdd } from './placement.js';
import type { NodeView } from './placement-types.js';
import type { HashReport } from './replica-health-types.js';

/** What adoption needs to know of one session (a snapshot of it; the plan does not touch it). */
export interface AdoptionSessionView {
  sessionId: string;
  open: boolean;
  app: { name: string; hash: string };
  replicationFactor: number;
  headSeq: number;
  /** Replicas counting toward R (starting, catching up, live). */
  active: ReadonlyArray<{ replicaId: string; hostId: string; admissionId: string }>;
  quarantinedHosts: readonly string[];
}

export interface AdoptionPlan {
  adopt: HeldReplica[];
  refuse: Array<{ claim: HeldReplica; reason: string }>;
}

/** Replica ids the server hands out: `<sessionId>.r<n>` (Session.nextReplicaId). */
const REPLICA_ID = /^(.+)\.r([1-9]\d{0,8})$/;

/** The replica counter in a replica id of this session, or null when the id is not one the server could have issued. */
export function replicaOrdinal(sessionId: string, replicaId: string): number | null {
  const m = REPLICA_ID.exec(replicaId);
  return m && m[1] === sessionId ? Number(m[2]) : null;
}

/** Why this claim cannot be adopted now, or null when it can. */
function refusal(claim: HeldReplica, session: AdoptionSessionView | undefined, node: NodeView): string | null {
  if (!session) return `no session ${claim.sessionId}`;
  if (!session.open) return `session ${claim.sessionId} is closed`;
  if (replicaOrdinal(session.sessionId, claim.replicaId) === null) {
    return `${claim.replicaId} is not a replica id of session ${session.sessionId}`;
  }
  if (session.active.some((r) => r.replicaId === claim.replicaId)) return `${claim.replicaId} is hosted already`;
  if (claim.app.name !== session.app.name || claim.app.hash !== session.app.hash) {
    return `app ${claim.app.name}@${claim.app.hash} is not the session's ${session.app.name}@${session.app.hash}`;
  }
  if (claim.appliedSeq > session.headSeq) {
    return `applied seq ${claim.appliedSeq} is beyond the log's head ${session.headSeq}`;
  }
  if (replicasToAdd(session.active.length, session.replicationFactor) === 0) {
    return `session ${session.sessionId} has its ${session.replicationFactor} replicas`;
  }
  // The very rules a fresh replica on this node would be placed by (host, admission, caps, app capability).
  const plan = planPlacement([node], {
    sessionId: session.sessionId,
    app: session.app,
    want: 1,
    excludeHosts: [...session.active.map((r) => r.hostId), ...session.quarantinedHosts],
    excludeAdmissions: session.active.map((r) => r.admissionId),
  });
  return plan.chosen.length === 1 ? null : (plan.reasons[0] ?? 'not placeable on this node');
}

/**
 * Which of a node's held replicas to adopt, in the order announced: each one
 * adopted counts against the node's capacity and its session's hosts for the
 * next, exactly as if it had just been placed there.
 */
export function planAdoption(
  node: NodeView,
  claims: readonly HeldReplica[],
  sessionOf: (sessionId: string) => AdoptionSessionView | undefined,
): AdoptionPlan {
  const plan: AdoptionPlan = { adopt: [], refuse: [] };
  const adoptedIn = new Map<string, AdoptionSessionView['active'][number][]>();
  let view = node;
  for (const claim of claims) {
    const base = sessionOf(claim.sessionId);
    const extra = adoptedIn.get(claim.sessionId) ?? [];
    const session = base && { ...base, active: [...base.active, ...extra] };
    const why = refusal(claim, session, view);
    if (why !== null) {
      plan.refuse.push({ claim, reason: why });
      continue;
    }
    plan.adopt.push(claim);
    adoptedIn.set(claim.sessionId, [
      ...extra,
      { replicaId: claim.replicaId, hostId: node.hostId, admissionId: node.admissionId },
    ]);
    view = { ...view, replicaCount: view.replicaCount + 1 };
  }
  return plan;
}

/**
 * Whether an adopted replica's state may be trusted (it may go live): its hash
 * agrees with a majority of the replicas that reported at some common seq (at
 * least one other), or it is the session's only replica, so there is nobody to
 * compare with and it stands on its own claim (SECURITY.md says what that trusts).
 */
export function adoptionVouched(replicaId: string, reports: readonly HashReport[], activeReplicas: number): boolean {
  if (activeReplicas <= 1) return true;
  const mine = new Map<number, string>();
  for (const r of reports) if (r.replicaId === replicaId) mine.set(r.seq, r.stateHash);
  for (const [seq, hash] of mine) {
    const ballots = new Map<string, string>();
    for (const r of reports) if (r.seq === seq) ballots.set(r.replicaId, r.stateHash);
    if (ballots.size < 2) continue;
    const agree = [...ballots.values()].filter((h) => h === hash).length;
    if (agree * 2 > ballots.size) return true;
  }
  return false;
}
