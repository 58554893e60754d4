// Replica placement: which nodes get the next replicas of a session. Pure: the
// caller supplies the node views and applies the plan. A replica only protects
// the session if it dies independently of the others, so the unit of spreading
// is the host, not the node.
import { canRunApp, isWarmFor } from '../../protocol/app-capability.js';
import type { AppRef } from '../../protocol/session.js';
import type { NodeView, PlacementPlan, PlacementRequest } from './placement-types.js';

export type { NodeState, NodeView, PlacementPlan, PlacementRequest } from './placement-types.js';

/** Replicas still needed to reach the replication factor (never negative). */
export function replicasToAdd(liveReplicaCount: number, replicationFactor: number): number {
  const missing = Math.floor(replicationFactor) - Math.floor(liveReplicaCount);
  return Number.isFinite(missing) && missing > 0 ? missing : 0;
}

/** Why a node cannot take this replica, or null when it can. */
function rejection(
  node: NodeView,
  req: PlacementRequest,
  excluded: ReadonlySet<string>,
  excludedAdmissions: ReadonlySet<string>,
): string | null {
  if (node.state !== 'up') return `node ${node.nodeId}: state ${node.state}`;
  if (!canRunApp(node, req.app)) return `node ${node.nodeId}: lacks or refuses ${req.app.name}@${req.app.hash}`;
  if (!(node.replicaCount < node.maxReplicas)) {
    return `node ${node.nodeId}: full (${node.replicaCount}/${node.maxReplicas})`;
  }
  if (excluded.has(node.hostId)) {
    return `node ${node.nodeId}: host ${node.hostId} already hosts session ${req.sessionId}`;
  }
  if (excludedAdmissions.has(node.admissionId)) {
    return `node ${node.nodeId}: its join token ${node.admissionId} already holds a replica of session ${req.sessionId}`;
  }
  return null;
}

// A missing or garbage load reading must not make a node look idle.
function loadOf(node: NodeView): number {
  return Number.isFinite(node.load) ? Math.min(1, Math.max(0, node.load)) : 1;
}

function replicasPerCore(node: NodeView): number {
  return node.replicaCount / Math.max(1, node.cores);
}

// Code-unit comparison, not localeCompare: the order must not depend on the locale.
function compareIds(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Order: warm for the app first (no cold start, already specialised), then
 * lower CPU load, then fewer replicas per core (covers replicas placed since
 * the last load sample), then nodeId so equal inputs give equal plans.
 */
function preference(app: AppRef): (a: NodeView, b: NodeView) => number {
  return (a, b) => {
    const warmA = isWarmFor(a, app) ? 0 : 1;
    const warmB = isWarmFor(b, app) ? 0 : 1;
    if (warmA !== warmB) return warmA - warmB;
    const load = loadOf(a) - loadOf(b);
    if (load !== 0) return load;
    const density = replicasPerCore(a) - replicasPerCore(b);
    if (density !== 0) return density;
    return compareIds(a.nodeId, b.nodeId);
  };
}

/** Picks up to `req.want` nodes for new replicas of one session, at most one per host. */
export function planPlacement(nodes: readonly NodeView[], req: PlacementRequest): PlacementPlan {
  const want = Number.isFinite(req.want) ? Math.max(0, Math.floor(req.want)) : 0;
  const excluded = new Set(req.excludeHosts);
  const excludedAdmissions = new Set(req.excludeAdmissions);
  const reasons: string[] = [];
  const eligible: NodeView[] = [];
  // Sorted first so reasons come out in a stable order whatever the input order.
  for (const node of [...nodes].sort((a, b) => compareIds(a.nodeId, b.nodeId))) {
    const why = rejection(node, req, excluded, excludedAdmissions);
    if (why === null) eligible.push(node);
    else reasons.push(why);
  }
  eligible.sort(preference(req.app));

  const chosen: NodeView[] = [];
  const usedHosts = new Set<string>();
  const usedAdmissions = new Set<string>();
  for (const node of eligible) {
    if (chosen.length >= want) break;
    // Best node of each host wins (eligible is sorted); its siblings would share its fate.
    if (usedHosts.has(node.hostId)) {
      reasons.push(`node ${node.nodeId}: host ${node.hostId} already chosen in this plan`);
      continue;
    }
    // One party with one token holds at most one replica, whatever host ids its nodes show.
    if (usedAdmissions.has(node.admissionId)) {
      reasons.push(`node ${node.nodeId}: join token ${node.admissionId} already chosen in this plan`);
      continue;
    }
    usedHosts.add(node.hostId);
    usedAdmissions.add(node.admissionId);
    chosen.push(node);
  }

  const shortBy = want - chosen.length;
  if (shortBy > 0) {
    reasons.push(
      `session ${req.sessionId}: placed ${chosen.length} of ${want} replicas of ${req.app.name}@${req.app.hash}; ` +
        `short by ${shortBy} (no further eligible host)`,
    );
  }
  return { chosen, shortBy, reasons };
}
