// The session core's view of the renderer nodes: who they are, what app
// versions they carry, what they host. Plain data: the connection to a node is
// the adapter's (server/node-port.ts).
import type { NodeView } from './placement-types.js';

/** What placement sees of a node (NodeView), plus what the core tracks about it. */
export interface NodeRecord extends Omit<NodeView, 'replicaCount' | 'load'> {
  /** replicaId → sessionId of the replicas this node hosts. */
  replicas: Map<string, string>;
  registeredAt: number;
  /** Last heartbeat (or registration) time: silence beyond the limit means dead, socket or not. */
  lastHeartbeatAt: number;
  /** CPU load reported by the node, 0..1. */
  load: number;
  /** The operator's cap on replicas across all nodes of this node's admission (host token), or null. */
  admissionMaxReplicas: number | null;
}

export class NodeRegistry<N extends NodeRecord = NodeRecord> {
  readonly #nodes = new Map<string, N>();

  add(node: N): void {
    this.#nodes.set(node.nodeId, node);
  }

  get(nodeId: string): N | undefined {
    return this.#nodes.get(nodeId);
  }

  remove(nodeId: string): N | undefined {
    const node = this.#nodes.get(nodeId);
    this.#nodes.delete(nodeId);
    return node;
  }

  all(): N[] {
    return [...this.#nodes.values()];
  }

  get size(): number {
    return this.#nodes.size;
  }

  views(): NodeView[] {
    // An admission's cap is shared by all its nodes: a host cannot multiply it by running more node processes.
    const usedByAdmission = new Map<string, number>();
    for (const n of this.#nodes.values()) {
      usedByAdmission.set(n.admissionId, (usedByAdmission.get(n.admissionId) ?? 0) + n.replicas.size);
    }
    const slots = (n: N): number =>
      n.admissionMaxReplicas === null
        ? n.maxReplicas
        : Math.min(n.maxReplicas, n.replicas.size + n.admissionMaxReplicas - (usedByAdmission.get(n.admissionId) ?? 0));
    return this.all().map((n) => ({
      nodeId: n.nodeId,
      hostId: n.hostId,
      admissionId: n.admissionId,
      apps: n.apps,
      warmApps: n.warmApps,
      appPolicy: n.appPolicy,
      warmBundles: n.warmBundles,
      refusedBundles: n.refusedBundles,
      cores: n.cores,
      maxReplicas: slots(n),
      replicaCount: n.replicas.size,
      // Reported CPU load, or the share of replica slots in use if that is higher.
      load: Math.max(n.load, n.maxReplicas > 0 ? n.replicas.size / n.maxReplicas : 1),
      state: n.state,
    }));
  }
}
