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

/** A stored entry is not one this codec wrote: not JSON, not the sealed shape, or its payload fails its schema. */
export class MalformedEntryError extends LockstepError {
  readonly code = 'bad-request' as const;
}

/** A stored entry's MAC does not verify under the cluster secret and its purpose (forged, altered, or another kind's). */
export class EntrySignatureError extends ClusterAuthError {}

/** A genuine entry filed under a key other than the one its value names (copied or moved): refused. */
export class MisfiledEntryError extends ClusterAuthError {}

/**
 * A leader's value stamped with one term was about to be written under another
 * (the term moved on between building it and writing it): not written. A
 * NotLeaderError, so callers that stand down on one stand down on this too.
 */
export class StaleFenceError extends NotLeaderError {}
