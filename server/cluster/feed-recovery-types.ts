// Types of the input feed's stall recovery (feed-recovery.ts).
import type { DurableSession } from '../session-core/session-core-types.js';
import type { InputFeed } from './input-feed.js';

/** Why a session's feed stopped: a stored input that does not parse, or inputs truncated behind a snapshot. */
export type FeedStallReason = 'corrupt' | 'truncated';

/** One session whose feed on this server emits nothing now (what /healthz lists). */
export interface StalledFeed {
  sessionId: string;
  reason: FeedStallReason;
  /** The corrupt input's seq, or the first seq the feed was missing. */
  seq: number;
  /** When it stalled (ms since the epoch). */
  since: number;
  error: string;
  /** A truncation being recovered (retried until it works); a corrupt input is never retried. */
  recovering: boolean;
}

/** What recovery needs of the session manager. */
export interface FeedRecoveryTarget {
  /** Hands the log's durable facts to the core; null when the session is not open here (any more). */
  resyncFromLog(sessionId: string): Promise<DurableSession | null>;
}

export interface FeedRecoveryOptions {
  feed: InputFeed;
  target: FeedRecoveryTarget;
  /** A failed recovery (etcd unreachable) is tried again after this long (default 500 ms). */
  retryMs?: number;
  now?: () => number;
}
