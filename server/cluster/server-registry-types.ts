// Types of the cluster's server registry (server-registry.ts).
import type { Etcd3 } from 'etcd3';
import type { ServerInfo } from '../../protocol/cluster.js';
import type { ClusterSecret } from './cluster-secret.js';

export interface ServerRegistryOptions {
  client: Etcd3;
  /** Key prefix shared by the deployment (e.g. "lockstep/"). */
  namespace: string;
  /** This server, as others should see it. */
  self: ServerInfo;
  secret: ClusterSecret;
  /** Lease TTL in whole seconds: a dead server's entry disappears this long after its last keepalive (default 3). */
  ttlSeconds?: number;
  /** Entries read per page when re-listing (default 100). */
  pageSize?: number;
  /** Re-register this long after losing the lease (etcd without quorum; default 500 ms). */
  retryMs?: number;
}

export interface ServerRegistryEvents {
  /** The live list changed. */
  changed: [servers: ServerInfo[]];
  /** A (new) registry lease is held: whatever was put under a lost one is gone and must be put again. */
  registered: [];
}
