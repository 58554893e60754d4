// Types of the Sequencer (sequencer.ts).
import type { InputEvent, SequencedInput } from '../protocol/input.js';
import type { InputLog } from './input-log.js';

export interface SubmitRequest {
  sessionId: string;
  clientId: string;
  /** Per-client counter, starting at 0, incremented for every input the client sends. */
  clientSeq: number;
  event: InputEvent;
}

export interface SequencerOptions {
  log: InputLog;
  /** Stamps `time` on every input: the only clock replicas ever see. Default Date.now. */
  now?: () => number;
  /** Flush as soon as this many requests are queued, without waiting for the next turn. Default 256. */
  maxBatch?: number;
  /** Largest allowed jump of a clientSeq above the client's last one. Default 10_000. */
  maxClientSeqGap?: number;
  /**
   * Require each client's clientSeqs without holes (next = last + 1); a jump is
   * rejected with OutOfOrderError (retryable), so a retried input can never be
   * overtaken by a later one. Default false.
   */
  contiguous?: boolean;
  /** When given, submits to a session for which it returns false are rejected with NotFoundError. */
  sessionExists?: (sessionId: string) => boolean;
  /**
   * When given, an input for which it returns false (one the session's app does
   * not read: protocol/app-inputs.ts) is rejected with UnwantedInputError and
   * never logged; its clientSeq stays a hole the contiguous rule passes over.
   */
  wanted?: (sessionId: string, event: InputEvent) => boolean;
}

/** New inputs of one session from one flush, in seq order (dense within the batch). */
export interface SessionBatch {
  sessionId: string;
  inputs: SequencedInput[];
}

export interface FlushStats {
  /** Requests in the batch, duplicates included. */
  size: number;
  /** Of those, newly logged. */
  appended: number;
  /** Wall time of the durable append. */
  durationMs: number;
}

export interface SequencerEvents {
  /**
   * After each durable flush with at least one new input: the batch's new
   * inputs grouped per session, each group in seq order. Duplicates never appear.
   */
  sequenced: [batches: SessionBatch[], stats: FlushStats];
  /** A flush failed: every request of it was rejected with DurabilityError; nothing was emitted. */
  flushFailed: [error: Error, stats: FlushStats];
  /** A flush was written (with or without new inputs): durable writes work. */
  flushed: [stats: FlushStats];
}

export type SequencerListener<K extends keyof SequencerEvents> = (...args: SequencerEvents[K]) => void;
