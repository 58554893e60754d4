// The sequencer: gives each viewer input a session-wide seq by appending it to
// the durable log, acknowledges only once the log write returned, and hands the
// new inputs to fan-out. Group commit: every request submitted in one event
// loop turn goes into one appendBatch (one fsync), flushed on setImmediate or as
// soon as maxBatch requests are queued. No sockets here: pure ordering logic.
import { EventEmitter } from 'node:events';
import { performance } from 'node:perf_hooks';
import { InputEventSchema, type SequencedInput } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  BadRequestError,
  ClosedError,
  DurabilityError,
  NotFoundError,
  OutOfOrderError,
  OutOfRangeError,
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
  private readonly emitter = new EventEmitter();
  private queue: Pending[] = [];
  /** Highest clientSeq queued but not yet flushed, per session+client: the gap check must see it. */
  private queuedMax = new Map<string, number>();
  private scheduled: NodeJS.Immediate | null = null;
  private lastTime = 0;
  private closed = false;

  constructor(options: SequencerOptions) {
    this.log = options.log;
    this.now = options.now ?? Date.now;
    this.maxBatch = options.maxBatch ?? 256;
    this.maxClientSeqGap = options.maxClientSeqGap ?? 10_000;
    this.sessionExists = options.sessionExists;
    this.contiguous = options.contiguous ?? false;
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
   * with BadRequestError / OutOfRangeError / NotFoundError before queueing, or
   * DurabilityError if the batch could not be written.
   */
  submit(req: SubmitRequest): Promise<AppendResult> {
    let append: AppendRequest;
    try {
      append = this.admit(req);
    } catch (err) {
      return Promise.reject(err instanceof Error ? err : new Error(String(err)));
    }
    return new Promise<AppendResult>((resolve, reject) => {
      this.queue.push({ req: append, resolve, reject });
      if (this.queue.length >= this.maxBatch) this.flush();
      else this.scheduled ??= setImmediate(() => this.flush());
    });
  }

  /** Requests queued and not yet flushed. */
  get pending(): number {
    return this.queue.length;
  }

  /** Writes everything queued now, in one batch. Normally called by the scheduler. */
  flush(): void {
    if (this.scheduled) {
      clearImmediate(this.scheduled);
      this.scheduled = null;
    }
    const batch = this.queue;
    if (batch.length === 0) return;
    this.queue = [];
    this.queuedMax = new Map();

    const started = performance.now();
    let results: AppendResult[];
    try {
      results = this.log.appendBatch(batch.map((p) => p.req));
      if (results.length !== batch.length) {
        throw new Error(`appendBatch returned ${results.length} results for ${batch.length} requests`);
      }
    } catch (err) {
      const stats: FlushStats = { size: batch.length, appended: 0, durationMs: performance.now() - started };
      const sessions = [...new Set(batch.map((p) => p.req.sessionId))];
      const error = new DurabilityError(
        'input batch was not written',
        { batchSize: batch.length, sessions },
        { cause: err },
      );
      log.error({ err, batchSize: batch.length, sessions }, 'durable append failed');
      for (const p of batch) p.reject(error);
      this.emit('flushFailed', error, stats);
      return;
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
    this.emit('flushed', stats);
    if (appended > 0) {
      const batches: SessionBatch[] = [...bySession].map(([sessionId, inputs]) => ({ sessionId, inputs }));
      this.emit('sequenced', batches, stats);
    }
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

  /** Flushes what is queued and refuses further submits. Does not close the log (the caller owns it). */
  close(): Promise<void> {
    if (!this.closed) {
      this.closed = true;
      this.flush();
    }
    // A promise so that an asynchronous log backend can be awaited here later.
    return Promise.resolve();
  }

  private admit(req: SubmitRequest): AppendRequest {
    if (this.closed) throw new ClosedError('sequencer is closed', { sessionId: req.sessionId });
    const { sessionId, clientId, clientSeq } = req;
    const ctx = { sessionId, clientId, clientSeq };
    if (!isId(sessionId)) throw new BadRequestError('invalid sessionId', ctx);
    if (!isId(clientId)) throw new BadRequestError('invalid clientId', ctx);
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
    const key = `${sessionId}\u0000${clientId}`;
    const last = Math.max(this.queuedMax.get(key) ?? -1, this.lastLogged(sessionId, clientId, ctx));
    if (this.contiguous && clientSeq > last + 1) {
      // A hole would let a later input be logged before an earlier one that is
      // still being retried; the client resends from `expected`.
      throw new OutOfOrderError(`clientSeq ${clientSeq} skips ahead; expected ${last + 1}`, {
        ...ctx,
        expected: last + 1,
      });
    }
    if (clientSeq > last + this.maxClientSeqGap) {
      throw new OutOfRangeError(`clientSeq jumps more than ${this.maxClientSeqGap} past the last one`, {
        ...ctx,
        lastClientSeq: last,
        maxClientSeqGap: this.maxClientSeqGap,
      });
    }
    if (clientSeq > last) this.queuedMax.set(key, clientSeq);
    return { sessionId, clientId, clientSeq, time: this.stamp(), event: parsed.data };
  }

  private lastLogged(sessionId: string, clientId: string, ctx: Record<string, unknown>): number {
    try {
      return this.log.lastClientSeq(sessionId, clientId);
    } catch (err) {
      throw new DurabilityError('cannot read the input log', ctx, { cause: err });
    }
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

function isId(v: unknown): v is string {
  return typeof v === 'string' && v.length > 0 && v.length <= LIMITS.maxIdLength;
}
