// Types of the cluster leader election (leader-election.ts).
import type { Etcd3 } from 'etcd3';

export interface LeaderElectionOptions {
  client: Etcd3;
  /** Key prefix shared by the deployment (the input log's, e.g. "lockstep/"). */
  namespace: string;
  /** This server's id (the leader key's value while it leads). */
  serverId: string;
  /** Lease TTL in whole seconds (etcd's unit; default 1, the minimum the etcd3 client accepts). */
  ttlSeconds?: number;
  /** The local term ends this long before etcd could expire the lease (default 150 ms). */
  safetyMs?: number;
  /** Keepalive period while holding a lease (default 200 ms: several tries inside one TTL). */
  renewEveryMs?: number;
  /** A follower re-checks the leader key this often besides watching it (default 250 ms). */
  retryEveryMs?: number;
  /** Deadline of a keepalive (default 400 ms). */
  keepaliveTimeoutMs?: number;
  now?: () => number;
}

export type StepDownReason = 'expired' | 'lease-lost' | 'fenced' | 'resigned' | 'closed';

export interface LeaderElectionEvents {
  /** This server became the leader; `revision` is the leader key's create revision (the fencing token). */
  elected: [{ revision: string; at: number }];
  /** This server stopped leading. */
  steppedDown: [{ reason: StepDownReason; at: number }];
  /** The leader key now names `leaderId` (null: no leader right now). */
  leader: [{ leaderId: string | null }];
}
