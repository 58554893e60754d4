// Placement for a cluster: a session's replicas spread over different hosts
// (planPlacement's rule, reused as is) AND different home servers where
// possible, so the death of one server, whose SFU carries the media of the
// replicas homed on it, leaves the session with a replica on a live one. Pure:
// the caller supplies the nodes (the node directory's) and applies the plan.
import { planPlacement } from '../session-core/placement.js';
import type { NodeView, PlacementPlan, PlacementRequest } from '../session-core/placement-types.js';

/** A node as the cluster sees it: placement's view plus the server it is connected to. */
export interface ClusterNodeView extends NodeView {
  homeServerId: string;
}

export interface HomeSpreadRequest extends PlacementRequest {
  /** Home servers already homing a replica of this session. */
  excludeHomes: string[];
}

export interface HomeSpreadPlan extends PlacementPlan {
  chosen: ClusterNodeView[];
  /** Of the chosen, how many had to share a home server with another replica of the session. */
  sharedHomes: number;
}

/**
 * Picks up to `req.want` nodes, one at a time: the best node (planPlacement's
 * order and rules: distinct hosts and admissions) among those on a home server
 * the session does not use yet; only when there is none, the best on any home.
 */
export function planHomeSpread(nodes: readonly ClusterNodeView[], req: HomeSpreadRequest): HomeSpreadPlan {
  const want = Number.isFinite(req.want) ? Math.max(0, Math.floor(req.want)) : 0;
  const byId = new Map(nodes.map((n) => [n.nodeId, n]));
  const hosts = new Set(req.excludeHosts);
  const admissions = new Set(req.excludeAdmissions);
  const homes = new Set(req.excludeHomes);
  const chosen: ClusterNodeView[] = [];
  const reasons: string[] = [];
  let sharedHomes = 0;
  let last: PlacementPlan | null = null;
  while (chosen.length < want) {
    const step = (pool: readonly ClusterNodeView[]): ClusterNodeView | null => {
      last = planPlacement(pool, { ...req, want: 1, excludeHosts: [...hosts], excludeAdmissions: [...admissions] });
      const pick = last.chosen[0];
      return pick ? (byId.get(pick.nodeId) ?? null) : null;
    };
    let pick = step(nodes.filter((n) => !homes.has(n.homeServerId)));
    if (!pick) {
      pick = step(nodes);
      if (pick) {
        sharedHomes++;
        reasons.push(
          `session ${req.sessionId}: node ${pick.nodeId} shares home server ${pick.homeServerId} with another replica ` +
            '(no eligible node on an unused home server)',
        );
      }
    }
    if (!pick) break;
    chosen.push(pick);
    hosts.add(pick.hostId);
    admissions.add(pick.admissionId);
    homes.add(pick.homeServerId);
  }
  const shortBy = want - chosen.length;
  // The last (failed) step's reasons say why nothing more could be placed.
  if (shortBy > 0 && last) reasons.push(...(last as PlacementPlan).reasons);
  return { chosen, shortBy, reasons, sharedHomes };
}
