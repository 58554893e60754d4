// Typed errors of the cluster pieces (server registry, election, fenced writes).
import { LockstepError } from '../errors.js';

/** This server is not (or no longer) the cluster leader: the fenced write was not made. */
export class NotLeaderError extends LockstepError {
  readonly code = 'unavailable' as const;
}

/** A message between servers failed its cluster-secret check (forged, altered, stale or unsigned). */
export class ClusterAuthError extends LockstepError {
  readonly code = 'unauthorized' as const;
}

/** The cluster configuration cannot work (no cluster secret, no advertise URL, …): refuse to start. */
export class ClusterConfigError extends LockstepError {
  readonly code = 'bad-request' as const;
}

/** The log lost inputs this server's feed still needs and no confirmed snapshot covers them: the session is stalled here. */
export class FeedGapError extends LockstepError {
  readonly code = 'unavailable' as const;
}

/**
 * Relayed checkpoint bytes (a chunk in etcd, or the snapshot a confirmed record
 * points at) failed their check: forged, altered, misfiled or unsigned. Refused.
 */
export class CheckpointIntegrityError extends LockstepError {
  readonly code = 'unauthorized' as const;
}
