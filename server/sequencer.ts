// The sequencer: gives each viewer input a session-wide seq by appending it to
// the durable log, acknowledges only once the log write returned, and hands the
// new inputs to fan-out. Group commit: every request submitted in one event
// loop turn goes into one appendBatch (one fsync), flushed on setImmediate or as
// soon as maxBatch requests are queued; while a batch is being written the next
// one accumulates, and one batch is in flight at a time, so the clientSeq rules
// are checked against a log that holds everything this sequencer acknowledged.
// An input the session's app does not read (`wanted`) is refused at once and
// never logged; the contiguous rule passes over its clientSeq.
// No sockets here: pure ordering logic.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { InputEventSchema, type InputEvent, type SequencedInput } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  BadRequestError,
  ClosedError,
  DurabilityError,
  NotFoundError,
  OutOfOrderError,
  OutOfRangeError,
  PartialAppendError,
  UnwantedInputError,
} from './errors.js';
import type { AppendRequest, AppendResult, InputLog } from './input-log.js';
import type {
  FlushStats,
  SequencerEvents,
  SequencerListener,
  SequencerOptions,
  SessionBatch,
  SubmitRequest,
} from './sequencer-types.js';

const log = getLogger('sequencer');

/**
 * Unwanted clientSeqs remembered per client, clients remembered, and clientSeqs remembered in all (the least
 * recently refused clients go first). The last bound is what memory costs: a control link cycling client ids
 * could otherwise hold every client's 1024 (some 4 million numbers).
 */
const MAX_UNWANTED_PER_CLIENT = 1024;
const MAX_UNWANTED_CLIENTS = 4096;
export const MAX_UNWANTED_TOTAL = 65_536;

interface Pending {
  req: AppendRequest;
  resolve: (r: AppendResult) => void;
  reject: (e: Error) => void;
}

export class Sequencer {
  private readonly log: InputLog;
  private readonly now: () => number;
  private readonly maxBatch: number;
  private readonly maxClientSeqGap: number;
  private readonly sessionExists: ((sessionId: string) => boolean) | undefined;
  private readonly contiguous: boolean;
  private readonly wanted: ((sessionId: string, event: InputEvent) => boolean) | undefined;
  /**
   * Per client (clientKey), the clientSeqs refused as unwanted above its last
   * logged one: holes no retry can fill, so the contiguous rule passes over them
   * (a viewer built before `keyUps` sends key-ups; without this its next key
   * would be refused as "skips ahead" again and again). In memory and bounded:
   * a restarted server, or another one in a cluster, does not know them, and
   * that client's next input waits for a re-join (which renumbers from the log).
   */
  private readonly unwanted = new Map<string, Set<number>>();
  /** clientSeqs held in `unwanted`, over all clients. */
  private unwantedCount = 0;
  private readonly emitter = new EventEmitter();
  private queue: Pending[] = [];
  private scheduled: NodeJS.Immediate | null = null;
  private inFlight: Promise<void> | null = null;
  private lastTime = 0;
  private closed = false;

  constructor(options: SequencerOptions) {
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.maxBatch = options.maxBatch ?? 256;
    this.maxClientSeqGap = options.maxClientSeqGap ?? 10_000;
    this.sessionExists = options.sessionExists;
    this.contiguous = options.contiguous ?? false;
    this.wanted = options.wanted;
    if (!Number.isInteger(this.maxBatch) || this.maxBatch < 1) {
      throw new BadRequestError('maxBatch must be an integer >= 1', { maxBatch: this.maxBatch });
    }
    if (!Number.isInteger(this.maxClientSeqGap) || this.maxClientSeqGap < 1) {
      throw new BadRequestError('maxClientSeqGap must be an integer >= 1', { maxClientSeqGap: this.maxClientSeqGap });
    }
  }

  /**
   * Queues one input. Resolves once it is durable (or recognised as a replay,
   * then with duplicate=true and the original seq, or -1 if compacted); rejects
   * with BadRequestError / NotFoundError / UnwantedInputError before queueing, OutOfOrderError /
   * OutOfRangeError when its batch is checked against the log, or
   * DurabilityError if the batch could not be written.
   */
  submit(req: SubmitRequest): Promise<AppendResult> {
    let append: AppendRequest;
    try {
      append = this.admit(req);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    if (this.wanted && !this.wanted(append.sessionId, append.event)) {
      this.noteUnwanted(append);
      const { sessionId, clientId, clientSeq } = append;
      return Promise.reject(
        new UnwantedInputError(
          'this app reads no key releases (its manifest says keyUps: false): the input was not logged; ' +
            'a viewer from before this server version sends them (reload the page)',
          { sessionId, clientId, clientSeq, event: append.event.type },
        ),
      );
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ req: append, resolve, reject });
      this.schedule();
    });
  }

  /** Requests queued and not yet flushed. */
  get pending(): number {
    return this.queue.length;
  }

  /**
   * Writes what is queued now (at most maxBatch), in one batch, or returns the
   * batch in flight (the queue is written right after it). Normally called by
   * the scheduler.
   */
  flush(): Promise<void> {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    if (this.inFlight) return this.inFlight;
    const batch = this.queue.splice(0, this.maxBatch);
    if (batch.length === 0) return Promise.resolve();
    this.inFlight = this.write(batch).finally(() => {
      this.inFlight = null;
      // What accumulated meanwhile has waited long enough: write it now.
      if (this.queue.length > 0) void this.flush();
    });
    return this.inFlight;
  }

  private schedule(): void {
    if (this.inFlight) return; // written when the batch in flight is done
    if (this.queue.length >= this.maxBatch) void this.flush();
    else this.scheduled ??= setImmediate(() => void this.flush());
  }

  private async write(queued: Pending[]): Promise<void> {
    const started = performance.now();
    const batch = await this.checkClientSeqs(queued, started);
    if (batch.length === 0) return;
    let results: AppendResult[];
    let failure: Error | null = null;
    try {
      results = await this.log.appendBatch(batch.map((p) => p.req));
      if (results.length !== batch.length) {
        throw new Error(`appendBatch returned ${results.length} results for ${batch.length} requests`);
      }
    } catch (err) {
      failure = err instanceof Error ? err : new Error(String(err));
      // A store that splits a batch into several transactions may have written its head.
      results = err instanceof PartialAppendError ? err.written.slice(0, batch.length) : [];
    }

    const bySession = new Map<string, SequencedInput[]>();
    let appended = 0;
    results.forEach((result, i) => {
      batch[i]?.resolve(result);
      if (result.duplicate) return;
      appended++;
      const sessionId = batch[i]?.req.sessionId ?? '';
      const list = bySession.get(sessionId);
      if (list) list.push(result.input);
      else bySession.set(sessionId, [result.input]);
    });
    const stats: FlushStats = { size: batch.length, appended, durationMs: performance.now() - started };
    // A batch written only in part is a failed flush (flushFailed below), not a working store.
    if (!failure) this.emit('flushed', stats);
    if (appended > 0) {
      const batches: SessionBatch[] = [...bySession].map(([sessionId, inputs]) => ({ sessionId, inputs }));
      this.emit('sequenced', batches, stats);
    }
    if (failure) {
      const unwritten = batch.slice(results.length);
      const sessions = [...new Set(unwritten.map((p) => p.req.sessionId))];
      const error = new DurabilityError(
        unavailableMessage('write'),
        { batchSize: unwritten.length, sessions },
        { cause: failure },
      );
      log.error(
        { err: failure, batchSize: unwritten.length, written: results.length, sessions },
        'durable append failed',
      );
      for (const p of unwritten) p.reject(error);
      this.emit('flushFailed', error, { ...stats, size: unwritten.length, appended: 0 });
    }
  }

  /**
   * The clientSeq rules, against the log's last clientSeq of each client plus
   * the earlier requests of this batch: refused requests are rejected here and
   * left out; the rest is returned in order.
   */
  private async checkClientSeqs(batch: Pending[], started: number): Promise<Pending[]> {
    const keys = new Map<string, { sessionId: string; clientId: string }>();
    for (const p of batch) keys.set(clientKey(p.req), { sessionId: p.req.sessionId, clientId: p.req.clientId });
    const last = new Map<string, number>();
    try {
      await Promise.all(
        [...keys].map(async ([key, c]) => last.set(key, await this.log.lastClientSeq(c.sessionId, c.clientId))),
      );
    } catch (err) {
      const error = new DurabilityError(unavailableMessage('read'), { batchSize: batch.length }, { cause: err });
      for (const p of batch) p.reject(error);
      this.emit('flushFailed', error, { size: batch.length, appended: 0, durationMs: performance.now() - started });
      return [];
    }
    // Holes left by unwanted inputs: forgotten once the log is past them, passed over until then.
    for (const [key, logged] of last) last.set(key, this.passUnwanted(key, logged, true));
    return batch.filter((p) => {
      const { sessionId, clientId, clientSeq } = p.req;
      const key = clientKey(p.req);
      const prev = last.get(key) ?? -1;
      const ctx = { sessionId, clientId, clientSeq };
      if (this.contiguous && clientSeq > prev + 1) {
        // A hole would let a later input be logged before an earlier one that is
        // still being retried; the client resends from `expected`.
        p.reject(
          new OutOfOrderError(`clientSeq ${clientSeq} skips ahead; expected ${prev + 1}`, {
            ...ctx,
            expected: prev + 1,
          }),
        );
        return false;
      }
      if (clientSeq > prev + this.maxClientSeqGap) {
        p.reject(
          new OutOfRangeError(`clientSeq jumps more than ${this.maxClientSeqGap} past the last one`, {
            ...ctx,
            lastClientSeq: prev,
            maxClientSeqGap: this.maxClientSeqGap,
          }),
        );
        return false;
      }
      // Not pruned here: this batch may fail, and the holes after its inputs must still be passed on a retry.
      if (clientSeq > prev) last.set(key, this.passUnwanted(key, clientSeq, false));
      return true;
    });
  }

  /** Unwanted clientSeqs remembered now, over all clients (bounded by MAX_UNWANTED_TOTAL). */
  get unwantedHoles(): number {
    return this.unwantedCount;
  }

  /** Remembers an unwanted input's clientSeq as a hole the contiguous rule passes over. */
  private noteUnwanted(req: AppendRequest): void {
    const key = clientKey(req);
    const seqs = this.unwanted.get(key) ?? new Set<number>();
    this.unwanted.delete(key); // re-inserted last: the least recently refused client goes first
    if (!seqs.has(req.clientSeq)) {
      seqs.add(req.clientSeq);
      this.unwantedCount++;
    }
    if (seqs.size > MAX_UNWANTED_PER_CLIENT) {
      seqs.delete(Math.min(...seqs));
      this.unwantedCount--;
    }
    this.unwanted.set(key, seqs);
    while (this.unwanted.size > MAX_UNWANTED_CLIENTS || this.unwantedCount > MAX_UNWANTED_TOTAL) {
      const oldest = this.unwanted.keys().next().value;
      if (oldest === undefined || oldest === key) break;
      this.forgetUnwanted(oldest);
    }
  }

  private forgetUnwanted(key: string): void {
    this.unwantedCount -= this.unwanted.get(key)?.size ?? 0;
    this.unwanted.delete(key);
  }

  /**
   * The client's last clientSeq with the unwanted holes right after it passed
   * over. `durable`: `last` is the log's, so holes at or below it are forgotten.
   */
  private passUnwanted(key: string, last: number, durable: boolean): number {
    const seqs = this.unwanted.get(key);
    if (!seqs) return last;
    if (durable) {
      for (const s of seqs) {
        if (s > last) continue;
        seqs.delete(s);
        this.unwantedCount--;
      }
      if (seqs.size === 0) {
        this.unwanted.delete(key);
        return last;
      }
    }
    let through = last;
    while (seqs.has(through + 1)) through++;
    return through;
  }

  on<K extends keyof SequencerEvents>(event: K, listener: SequencerListener<K>): this {
    this.emitter.on(event, listener as (...args: unknown[]) => void);
    return this;
  }

  once<K extends keyof SequencerEvents>(event: K, listener: SequencerListener<K>): this {
    this.emitter.once(event, listener as (...args: unknown[]) => void);
    return this;
  }

  off<K extends keyof SequencerEvents>(event: K, listener: SequencerListener<K>): this {
    this.emitter.off(event, listener as (...args: unknown[]) => void);
    return this;
  }

  /** Writes everything queued and refuses further submits. Does not close the log (the caller owns it). */
  async close(): Promise<void> {
    this.closed = true;
    while (this.inFlight || this.queue.length > 0) await this.flush();
  }

  private admit(req: SubmitRequest): AppendRequest {
    if (this.closed) throw new ClosedError('sequencer is closed', { sessionId: req.sessionId });
    const { sessionId, clientId, clientSeq } = req;
    const ctx = { sessionId, clientId, clientSeq };
    if (!isId(sessionId, LIMITS.maxIdLength)) throw new BadRequestError('invalid sessionId', ctx);
    // Logged client ids carry the server's scope prefix, so they may be longer than an id a viewer sends.
    if (!isId(clientId, LIMITS.maxLoggedClientIdLength)) throw new BadRequestError('invalid clientId', ctx);
    if (!Number.isSafeInteger(clientSeq) || clientSeq < 0) {
      throw new BadRequestError('clientSeq must be an integer >= 0', ctx);
    }
    // Validate here, not on read: a bad event must never become a durable row
    // that every replica would choke on.
    const parsed = InputEventSchema.safeParse(req.event);
    if (!parsed.success) {
      throw new BadRequestError('invalid input event', { ...ctx, issues: parsed.error.issues.slice(0, 5) });
    }
    if (this.sessionExists && !this.sessionExists(sessionId)) {
      throw new NotFoundError(`session ${sessionId} does not exist`, ctx);
    }
    return { sessionId, clientId, clientSeq, time: this.stamp(), event: parsed.data };
  }

  /** Non-decreasing integer ms: a wall-clock step back must not make replica time run backwards. */
  private stamp(): number {
    const t = Math.floor(this.now());
    if (Number.isFinite(t) && t > this.lastTime) this.lastTime = t;
    return this.lastTime;
  }

  private emit<K extends keyof SequencerEvents>(event: K, ...args: SequencerEvents[K]): void {
    // Each listener isolated: inputs are already durable and acknowledged, and
    // one failing consumer must not starve the others of fan-out.
    for (const listener of this.emitter.rawListeners(event)) {
      try {
        (listener as (...a: SequencerEvents[K]) => void)(...args);
      } catch (err) {
        log.error({ err, event }, 'sequencer listener threw');
      }
    }
  }
}

function clientKey(req: AppendRequest): string {
  return `${req.sessionId}\u0000${req.clientId}`;
}

function isId(v: unknown, maxLength: number): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= maxLength;
}

/** What a refused input's sender reads: what happened and what to do, without the store's internals. */
function unavailableMessage(op: 'read' | 'write'): string {
  return `the input log cannot ${op} now (store failing or without quorum): this input was not acknowledged; resend it`;
}
