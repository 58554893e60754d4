// Types of the leader's rehome directives in etcd (rehome-directives.ts).
import type { Etcd3 } from 'etcd3';
import type { RehomeDirective } from '../../protocol/cluster-state.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { FencedWriter } from './fenced-writer.js';
import type { LeaderElection } from './leader-election.js';

export interface RehomeDirectivesOptions {
  client: Etcd3;
  /** Key prefix shared by the deployment (e.g. "lockstep/"). */
  namespace: string;
  /** Only the leader writes directives, fenced on its term. */
  election: LeaderElection;
  writer: FencedWriter;
  secret: ClusterSecret;
  now?: () => number;
}

export interface RehomeDirectivesEvents {
  /** A directive was written (or changed) … */
  issued: [directive: RehomeDirective];
  /** … or deleted. */
  cleared: [directive: RehomeDirective];
}
