// Types of the leader's rehome directives in etcd (rehome-directives.ts).
import type { RehomeDirective } from '../../protocol/cluster-state.js';
import type { PlacementTableOptions } from './placement-table-types.js';

/** Like the placement table's: the leader writes (fenced on its term), every server follows. */
export type RehomeDirectivesOptions = PlacementTableOptions;

export interface RehomeDirectivesEvents {
  /** A directive was written (or changed) … */
  issued: [directive: RehomeDirective];
  /** … or deleted. */
  cleared: [directive: RehomeDirective];
}
