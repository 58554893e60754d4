// Nodes as tests build them: as placement sees one (an idle, up node of its
// own host and admission with room to spare, running `app`; tests override
// what they are about), and as the cluster directory and registry list them.
import type { ServerInfo } from '../../protocol/cluster.js';
import type { ClusterNodeInfo } from '../../protocol/cluster-state.js';
import type { AppRef } from '../../protocol/session.js';
import type { NodeRecord } from '../../server/session-core/node-registry.js';
import type { NodeView } from '../../server/session-core/placement.js';

export function nodeView(nodeId: string, app: AppRef, over: Partial<NodeView> = {}): NodeView {
  return {
    nodeId,
    hostId: `host-${nodeId}`,
    admissionId: `token-${nodeId}`,
    apps: [app],
    warmApps: [],
    appPolicy: { kind: 'builtin' },
    warmBundles: [],
    refusedBundles: [],
    cores: 4,
    maxReplicas: 4,
    replicaCount: 0,
    load: 0.2,
    state: 'up',
    ...over,
  };
}

/** A node as the session core records it: up, idle, its own host and admission, running `apps`. */
export function nodeRecord(nodeId: string, apps: AppRef[], over: Partial<NodeRecord> = {}): NodeRecord {
  return {
    nodeId,
    hostId: `host-${nodeId}`,
    admissionId: `token-${nodeId}`,
    apps,
    warmApps: [...new Set(apps.map((a) => a.name))],
    appPolicy: { kind: 'builtin' },
    warmBundles: [],
    refusedBundles: [],
    cores: 2,
    maxReplicas: 4,
    state: 'up',
    replicas: new Map(),
    registeredAt: 0,
    lastHeartbeatAt: 0,
    load: 0,
    admissionMaxReplicas: null,
    ...over,
  };
}

/** A live server as the cluster registry lists it. */
export function clusterServer(id: string): ServerInfo {
  return { id, url: `http://${id}.test:3000`, sfuCapacity: 8, startedAt: 1 };
}

/** A node's entry in the cluster's node directory: up, running writer, homed on `homeServerId`. */
export function clusterNode(nodeId: string, homeServerId: string, load = 0.1): ClusterNodeInfo {
  return {
    nodeId,
    hostId: `host-${nodeId}`,
    admissionId: `adm-${nodeId}`,
    homeServerId,
    cores: 4,
    maxReplicas: 4,
    replicaCount: 1,
    load,
    state: 'up',
    warmApps: ['writer'],
    apps: [{ name: 'writer', hash: '0123456789abcdef' }],
    appPolicy: { kind: 'builtin' },
    warmBundles: [],
    refusedBundles: [],
  };
}
