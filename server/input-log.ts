// The durable input log as the rest of the server sees it. SQLite implements it
// embedded (sqlite-input-log.ts), etcd replicated (log/etcd-input-log.ts); both
// pass one contract suite (test/integration/input-log-contract.test.ts). Every
// method is asynchronous because a replicated write is a network round trip.
import type { InputEvent, SequencedInput } from '../protocol/input.js';

/**
 * `input.seq` of a replay whose original is no longer in the log (truncated
 * behind a snapshot): the input was logged once, its seq is not retrievable.
 */
export const COMPACTED_SEQ = -1;

export interface AppendRequest {
  sessionId: string;
  clientId: string;
  clientSeq: number;
  /** Stamped by the sequencer: the only clock replicas ever see. */
  time: number;
  event: InputEvent;
}

export interface AppendResult {
  input: SequencedInput;
  /** True when this (sessionId, clientId, clientSeq) was logged before: nothing was written. */
  duplicate: boolean;
}

export interface StoredSnapshot {
  sessionId: string;
  /** The state after applying every input with seq <= this (0: initial state). */
  seq: number;
  stateHash: string;
  data: Buffer;
  createdAt: number;
}

export interface InputLog {
  /**
   * Appends many requests durably (group commit: one transaction, or several
   * in request order where the store bounds a transaction's size): when it
   * returns, every result is durable. When it throws, nothing was written,
   * except that a PartialAppendError's `written` holds the results of the
   * leading requests that were (a store that splits batches).
   * Idempotent by (sessionId, clientId, clientSeq): a duplicate returns the
   * originally assigned input with duplicate=true and does not consume a seq.
   * A clientSeq at or below the client's lastClientSeq is always treated as a
   * replay (clients send in order); if its original is no longer in the log it
   * comes back with duplicate=true and input.seq = COMPACTED_SEQ.
   * Results are in request order; new inputs of a session get dense,
   * increasing seqs in request order.
   */
  appendBatch(reqs: AppendRequest[]): Promise<AppendResult[]>;
  /** Inputs with fromSeq <= seq <= toSeq in seq order, at most `limit`. Truncated seqs are simply absent. */
  read(sessionId: string, fromSeq: number, toSeq: number, limit: number): Promise<SequencedInput[]>;
  /** Highest seq ever assigned in the session; 0 when none. Survives truncation. */
  headSeq(sessionId: string): Promise<number>;
  /** Highest clientSeq logged for this client; -1 when none. Survives truncation. */
  lastClientSeq(sessionId: string, clientId: string): Promise<number>;
  /** Idempotent for the same (sessionId, seq, stateHash); a different hash for a stored seq is a conflict. */
  putSnapshot(s: Omit<StoredSnapshot, 'createdAt'>): Promise<void>;
  latestSnapshot(sessionId: string): Promise<StoredSnapshot | null>;
  /** The snapshot stored at exactly this seq, or null. */
  snapshotAt(sessionId: string, seq: number): Promise<StoredSnapshot | null>;
  /** The newest snapshot strictly below `seq` (the fallback behind a suspect one), or null. */
  snapshotBefore(sessionId: string, seq: number): Promise<StoredSnapshot | null>;
  /** Deletes the snapshots with seq < beforeSeq (or only the one at `onlySeq`); returns how many. */
  deleteSnapshots(sessionId: string, range: { beforeSeq: number } | { onlySeq: number }): Promise<number>;
  /** Deletes inputs with seq <= uptoSeq (behind a stored snapshot); returns rows removed. */
  truncateThrough(sessionId: string, uptoSeq: number): Promise<number>;
  /** Resolves when the store can serve now (etcd: a quorum answers); rejects with DurabilityError otherwise. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
