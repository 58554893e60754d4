// Inputs and outputs of replica placement. Kept apart from the algorithm so the
// node registry can build NodeViews without importing the planner.
import type { AppCapabilities } from '../../protocol/bundle.js';
import type { AppRef } from '../../protocol/session.js';

export type NodeState = 'up' | 'leaving' | 'down';

/** The server's current picture of one renderer node (what it may run: AppCapabilities, protocol/app-capability.ts). */
export interface NodeView extends AppCapabilities {
  nodeId: string;
  /** Physical machine: several nodes may share one, and so share its fate. */
  hostId: string;
  /** The operator's admission (host join token) the node came in by: one replica of a session per admission. */
  admissionId: string;
  /** App names the node keeps warm (pre-loaded, specialised for them). */
  warmApps: string[];
  cores: number;
  maxReplicas: number;
  replicaCount: number;
  /** CPU load, 0..1. */
  load: number;
  state: NodeState;
}

export interface PlacementRequest {
  sessionId: string;
  app: AppRef;
  /** Replicas to add. */
  want: number;
  /** Hosts already running a replica of this session. */
  excludeHosts: string[];
  /** Admissions (join tokens) already holding a replica of this session. */
  excludeAdmissions: string[];
}

export interface PlacementPlan {
  /** Nodes to start a replica on, best first, each on a distinct host. */
  chosen: NodeView[];
  /** How many of `want` could not be placed. */
  shortBy: number;
  /** Why each node was passed over, plus the shortfall: for logs and operators. */
  reasons: string[];
}
