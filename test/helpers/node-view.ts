// A node as placement sees it: an idle, up node of its own host and admission
// with room to spare, running `app`; tests override what they are about.
import type { AppRef } from '../../protocol/session.js';
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
