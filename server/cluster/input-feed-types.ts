// Types of the cluster input feed (input-feed.ts).
import type { Etcd3 } from 'etcd3';
import type { CorruptInputError } from '../errors.js';
import type { SessionBatch } from '../sequencer-types.js';

export interface InputFeedOptions {
  client: Etcd3;
  /** The input log's key prefix (EtcdInputLog's namespace, e.g. "lockstep/"). */
  namespace: string;
  /** Inputs per catch-up range read (default EtcdInputLog's page: under gRPC's 4 MiB reply even with 64 KiB pastes). */
  pageSize?: number;
  /** Every session is re-read from its next seq this often, besides the watch (default 1000 ms; 0: never). */
  resyncMs?: number;
  /** A failed read is retried after this long (default 200 ms). */
  retryMs?: number;
}

export interface InputFeedEvents {
  /** New inputs, contiguous from the session's last emitted seq: the Sequencer's `sequenced` shape. */
  sequenced: [batches: SessionBatch[]];
  /** A stored input does not parse: nothing from it on is emitted for the session (it stays stalled). */
  corrupt: [{ sessionId: string; seq: number; error: CorruptInputError }];
  /**
   * The next input is no longer in the log (truncated behind a snapshot): the
   * session is stalled; remove it and add it again from a snapshot's seq.
   */
  truncated: [{ sessionId: string; expectedSeq: number; firstSeq: number }];
}
