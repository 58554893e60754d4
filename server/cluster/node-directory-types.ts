// Types of the cluster node directory (node-directory.ts).
import type { Etcd3 } from 'etcd3';
import type { ClusterNodeInfo } from '../../protocol/cluster-state.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { ServerRegistry } from './server-registry.js';

export interface NodeDirectoryOptions {
  client: Etcd3;
  /** Key prefix shared by the deployment (e.g. "lockstep/"). */
  namespace: string;
  /** This server's registry: its lease carries this server's node entries. */
  registry: ServerRegistry;
  secret: ClusterSecret;
}

export interface NodeDirectoryEvents {
  /** A node appeared or its entry changed (on any server). */
  node: [info: ClusterNodeInfo];
  /** A node's entry went: unpublished, or its home server's lease expired. */
  nodeGone: [info: ClusterNodeInfo];
}
