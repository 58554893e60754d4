// Recovers a session's InputFeed when it stalls. The feed stalls when the next
// input it needs is gone from the shared log (truncated behind a confirmed
// snapshot while this server was down or cut off from etcd) or does not parse.
// A truncation is recovered: the session core takes the log's durable facts
// (its replicas behind them restore the snapshot and replay its tail, the path
// churn uses), then the feed follows again from the latest confirmed
// snapshot's seq, after which the log holds every input. A corrupt input is
// never applied nor skipped: the session stays stalled here, logged and listed
// (/healthz), until it closes.
import { getLogger } from '../../protocol/logger.js';
import { FeedGapError } from './cluster-errors.js';
import type { FeedRecoveryOptions, FeedRecoveryTarget, StalledFeed } from './feed-recovery-types.js';
import type { InputFeed } from './input-feed.js';
import type { InputFeedEvents } from './input-feed-types.js';

const log = getLogger('feed-recovery');

type Truncated = InputFeedEvents['truncated'][0];
type Corrupt = InputFeedEvents['corrupt'][0];

export class FeedRecovery {
  readonly #feed: InputFeed;
  readonly #target: FeedRecoveryTarget;
  readonly #retryMs: number;
  readonly #now: () => number;
  readonly #stalled = new Map<string, StalledFeed>();
  /** Truncated again while a recovery was in flight: run it once more when that one ends. */
  readonly #again = new Set<string>();
  readonly #retries = new Map<string, NodeJS.Timeout>();
  readonly #onTruncated = (e: Truncated): void => this.#truncated(e);
  readonly #onCorrupt = (e: Corrupt): void => this.#corrupt(e);
  #closed = false;

  constructor(options: FeedRecoveryOptions) {
    this.#feed = options.feed;
    this.#target = options.target;
    this.#retryMs = options.retryMs ?? 500;
    this.#now = options.now ?? Date.now;
    this.#feed.on('truncated', this.#onTruncated);
    this.#feed.on('corrupt', this.#onCorrupt);
  }

  /** Sessions whose feed emits nothing on this server now. */
  stalled(): StalledFeed[] {
    return [...this.#stalled.values()].map((s) => ({ ...s }));
  }

  /** The session closed here: nothing is left to recover. */
  forget(sessionId: string): void {
    this.#stalled.delete(sessionId);
    this.#again.delete(sessionId);
    const retry = this.#retries.get(sessionId);
    if (retry) clearTimeout(retry);
    this.#retries.delete(sessionId);
  }

  close(): void {
    this.#closed = true;
    this.#feed.off('truncated', this.#onTruncated);
    this.#feed.off('corrupt', this.#onCorrupt);
    for (const id of [...this.#stalled.keys()]) this.forget(id);
  }

  #truncated(e: Truncated): void {
    if (this.#closed) return;
    const current = this.#stalled.get(e.sessionId);
    if (current?.recovering) {
      this.#again.add(e.sessionId);
      return;
    }
    log.warn(e, 'input feed stalled: its next input was truncated behind a snapshot; recovering from the snapshot');
    const entry: StalledFeed = {
      sessionId: e.sessionId,
      reason: 'truncated',
      seq: e.expectedSeq,
      since: this.#now(),
      error: `inputs ${e.expectedSeq}..${e.firstSeq - 1} were truncated before this server fanned them out`,
      recovering: true,
    };
    this.#stalled.set(e.sessionId, entry);
    void this.#recover(entry);
  }

  #corrupt(e: Corrupt): void {
    if (this.#closed) return;
    log.error({ sessionId: e.sessionId, seq: e.seq, err: e.error }, 'input feed stalled: corrupt input in the log');
    this.#stalled.set(e.sessionId, {
      sessionId: e.sessionId,
      reason: 'corrupt',
      seq: e.seq,
      since: this.#now(),
      error: e.error.message,
      recovering: false,
    });
  }

  /** Brings the core to the log's facts, then follows the feed again from the latest snapshot; retried on failure. */
  async #recover(entry: StalledFeed): Promise<void> {
    const { sessionId } = entry;
    const current = (): boolean => !this.#closed && this.#stalled.get(sessionId) === entry;
    try {
      await this.#feed.remove(sessionId);
      const durable = await this.#target.resyncFromLog(sessionId);
      if (!current()) return;
      if (!durable) {
        // Closed here meanwhile: nothing to follow.
        this.forget(sessionId);
        return;
      }
      const fromSeq = durable.snapshot?.seq ?? 0;
      if (fromSeq < durable.compactedThrough) {
        const err = new FeedGapError(
          `session ${sessionId}: the log is truncated through ${durable.compactedThrough} and no confirmed snapshot covers it`,
          { sessionId, compactedThrough: durable.compactedThrough, snapshotSeq: durable.snapshot?.seq ?? null },
        );
        log.error({ err, sessionId }, 'input feed stalled: nothing to recover from');
        this.#stalled.set(sessionId, { ...entry, error: err.message, recovering: false });
        return;
      }
      this.#again.delete(sessionId);
      await this.#feed.add(sessionId, fromSeq);
      if (!current()) return;
      if (this.#again.delete(sessionId)) {
        // Truncated further while it caught up: once more, from the newer snapshot.
        void this.#recover(entry);
        return;
      }
      this.#stalled.delete(sessionId);
      log.info(
        { sessionId, fromSeq, missedFrom: entry.seq, headSeq: durable.headSeq },
        'input feed recovered: following again from the latest confirmed snapshot',
      );
    } catch (err) {
      if (!current()) return;
      log.warn({ err, sessionId }, 'input feed recovery failed: trying again');
      const retry = setTimeout(() => {
        this.#retries.delete(sessionId);
        if (current()) void this.#recover(entry);
      }, this.#retryMs);
      retry.unref();
      this.#retries.set(sessionId, retry);
    }
  }
}
