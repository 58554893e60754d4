// Follows the etcd input log of a set of sessions and emits every input, from
// whichever server appended it, once, in seq order, without gaps: what a
// server fans out to its local replicas in cluster mode.
//
// Per session: catch up by key range in pages (far faster than a watch from an
// old revision), then watch the session's input prefix from the revision the
// last page was read at. A watch event is only trusted when it continues the
// emitted seqs exactly; anything else (a gap, events out of order, a watch
// cancelled by a compaction, a watch stream re-established after an etcd
// member died) makes the session re-read its range from the next seq. A slow
// periodic re-read covers a watch that went quiet without telling. Reads of one
// session never overlap, so the emitted seqs are strictly increasing.
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import type { SequencedInput } from '../../protocol/input.js';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { BadRequestError, ClosedError, CorruptInputError } from '../errors.js';
import { READ_PAGE, StoredInputSchema } from '../log/etcd-input-log.js';
import { etcdCall } from './etcd-client.js';
import type { InputFeedEvents, InputFeedOptions } from './input-feed-types.js';

const log = getLogger('input-feed');

/** Seqs are zero-padded to 16 digits in keys (EtcdInputLog's layout: key order is seq order). */
const SEQ_DIGITS = 16;
const pad = (n: number): string => n.toString().padStart(SEQ_DIGITS, '0');

interface Follow {
  sessionId: string;
  /** `<ns>log/<session>/in/` */
  prefix: string;
  /** The next seq to emit. */
  next: number;
  watcher: Watcher | null;
  reading: boolean;
  /** Something arrived while a read was running: read again when it ends. */
  again: boolean;
  /** Corrupt or truncated: nothing more is emitted until the session is removed. */
  stalled: boolean;
  removed: boolean;
  retry: NodeJS.Timeout | null;
}

export class InputFeed extends TypedEmitter<InputFeedEvents> {
  readonly #client: Etcd3;
  readonly #ns: string;
  readonly #pageSize: number;
  readonly #retryMs: number;
  readonly #follows = new Map<string, Follow>();
  #resync: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(options: InputFeedOptions) {
    super();
    this.#client = options.client;
    this.#ns = options.namespace;
    this.#pageSize = options.pageSize ?? READ_PAGE;
    this.#retryMs = options.retryMs ?? 200;
    const resyncMs = options.resyncMs ?? 1000;
    if (resyncMs > 0) {
      this.#resync = setInterval(() => {
        for (const f of this.#follows.values()) if (!f.stalled) this.#kick(f);
      }, resyncMs);
      this.#resync.unref();
    }
  }

  static create(options: InputFeedOptions): Promise<InputFeed> {
    return Promise.resolve(new InputFeed(options));
  }

  /** Sessions followed, with the next seq each will emit. */
  sessions(): Map<string, number> {
    return new Map([...this.#follows.values()].map((f) => [f.sessionId, f.next]));
  }

  /**
   * Follows `sessionId`, emitting its inputs with seq > afterSeq. Resolves once
   * the log up to now has been emitted and the watch is in place; rejects (and
   * follows nothing) when etcd cannot be read.
   */
  async add(sessionId: string, afterSeq: number): Promise<void> {
    if (this.#closed) throw new ClosedError('input feed is closed');
    if (!Number.isSafeInteger(afterSeq) || afterSeq < 0) {
      throw new BadRequestError(`afterSeq must be a non-negative integer, got ${afterSeq}`, { sessionId });
    }
    if (this.#follows.has(sessionId)) throw new BadRequestError(`already following ${sessionId}`, { sessionId });
    const f: Follow = {
      sessionId,
      prefix: `${this.#ns}log/${encodeURIComponent(sessionId)}/in/`,
      next: afterSeq + 1,
      watcher: null,
      reading: true,
      again: false,
      stalled: false,
      removed: false,
      retry: null,
    };
    this.#follows.set(sessionId, f);
    try {
      // A compaction between the read and the watch's creation cancels the watch: read again.
      for (let attempt = 1; ; attempt++) {
        try {
          await this.#watch(f, await this.#readAll(f));
          break;
        } catch (err) {
          if (attempt >= 3 || f.removed) throw err;
          log.debug({ err, sessionId, attempt }, 'following a session failed: trying again');
        }
      }
    } catch (err) {
      await this.remove(sessionId);
      throw err;
    } finally {
      f.reading = false;
    }
    if (f.again) this.#kick(f);
  }

  /** Stops following `sessionId` (nothing more is emitted for it). */
  async remove(sessionId: string): Promise<void> {
    const f = this.#follows.get(sessionId);
    if (!f) return;
    this.#follows.delete(sessionId);
    f.removed = true;
    if (f.retry) clearTimeout(f.retry);
    const watcher = f.watcher;
    f.watcher = null;
    await watcher?.cancel().catch(() => undefined);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#resync) clearInterval(this.#resync);
    await Promise.all([...this.#follows.keys()].map((id) => this.remove(id)));
  }

  // ---------------------------------------------------------------- watch

  async #watch(f: Follow, afterRevision: string): Promise<void> {
    const watcher = await etcdCall('watch inputs', () =>
      this.#client
        .watch()
        .prefix(f.prefix)
        .startRevision((BigInt(afterRevision) + 1n).toString())
        .create(),
    );
    if (f.removed) {
      await watcher.cancel().catch(() => undefined);
      return;
    }
    f.watcher = watcher;
    watcher.on('data', (res) => this.#onWatch(f, res));
    // The stream was re-established (an etcd member died, a leader changed):
    // whatever happened meanwhile is read back from the range.
    watcher.on('connected', () => this.#kick(f));
    watcher.on('disconnected', (err) => log.debug({ err, sessionId: f.sessionId }, 'input watch disconnected'));
    // etcd cancelled the watch (its revision was compacted away): read the
    // range and watch again from where that read stands.
    watcher.on('error', (err) => {
      log.info({ err: err.message, sessionId: f.sessionId }, 'input watch cancelled: re-reading and watching again');
      if (f.watcher !== watcher) return;
      f.watcher = null;
      this.#rewatch(f);
    });
  }

  #rewatch(f: Follow): void {
    if (f.removed || this.#closed) return;
    void this.#serial(f, async () => {
      const revision = await this.#readAll(f);
      if (!f.removed && !f.watcher) await this.#watch(f, revision);
    });
  }

  /** Emits the events that continue the session exactly; anything else is left to a range read. */
  #onWatch(f: Follow, res: IWatchResponse): void {
    if (f.removed || f.stalled) return;
    if (f.reading) {
      f.again = true;
      return;
    }
    const puts = res.events
      .filter((ev) => ev.type === 'Put')
      .map((ev) => ({ seq: this.#seqOf(f, ev.kv), kv: ev.kv }))
      .filter((p) => p.seq >= f.next)
      .sort((a, b) => a.seq - b.seq);
    const inputs: SequencedInput[] = [];
    for (const p of puts) {
      if (p.seq !== f.next + inputs.length) break;
      const input = this.#parse(f, p.seq, p.kv);
      if (!input) break;
      inputs.push(input);
    }
    this.#emit(f, inputs);
    // A gap (or a value that did not parse, re-checked by the read): read the range.
    if (!f.stalled && puts.some((p) => p.seq >= f.next)) this.#kick(f);
  }

  // ---------------------------------------------------------------- reads

  /** Reads the session's range from its next seq (now, or after the running read). */
  #kick(f: Follow): void {
    if (f.removed || f.stalled || this.#closed) return;
    if (f.reading) {
      f.again = true;
      return;
    }
    void this.#serial(f, () => this.#readAll(f).then(() => undefined));
  }

  /** Runs `job` as the session's only read, repeating a plain read while more arrived; retries on failure. */
  async #serial(f: Follow, job: () => Promise<void>): Promise<void> {
    f.reading = true;
    try {
      f.again = false;
      await job();
      while (f.again && !f.removed && !f.stalled) {
        f.again = false;
        await this.#readAll(f);
      }
    } catch (err) {
      log.debug({ err, sessionId: f.sessionId }, 'input read failed: retrying');
      if (!f.removed && !f.retry) {
        const rewatch = !f.watcher;
        f.retry = setTimeout(() => {
          f.retry = null;
          if (rewatch) this.#rewatch(f);
          else this.#kick(f);
        }, this.#retryMs);
        f.retry.unref();
      }
    } finally {
      f.reading = false;
    }
  }

  /** Reads and emits from `next` to the end of the range in pages; returns the revision the last page saw. */
  async #readAll(f: Follow): Promise<string> {
    const end = `${f.prefix.slice(0, -1)}0`; // "/" + 1: the end of the prefix range
    for (;;) {
      const start = `${f.prefix}${pad(f.next)}`;
      const res = await etcdCall('read inputs', () =>
        this.#client.getAll().inRange({ start, end }).sort('Key', 'Ascend').limit(this.#pageSize).exec(),
      );
      if (f.removed || f.stalled) return res.header.revision;
      const inputs: SequencedInput[] = [];
      for (const kv of res.kvs) {
        const seq = this.#seqOf(f, kv);
        const expected = f.next + inputs.length;
        if (seq !== expected) {
          this.#emit(f, inputs);
          // Key order is seq order, so a later first key means the inputs before were truncated.
          f.stalled = true;
          log.warn(
            { sessionId: f.sessionId, expectedSeq: expected, firstSeq: seq },
            'input log truncated past the feed',
          );
          this.emit('truncated', { sessionId: f.sessionId, expectedSeq: expected, firstSeq: seq });
          return res.header.revision;
        }
        const input = this.#parse(f, seq, kv);
        if (!input) {
          this.#emit(f, inputs);
          return res.header.revision;
        }
        inputs.push(input);
      }
      this.#emit(f, inputs);
      if (res.kvs.length < this.#pageSize) return res.header.revision;
    }
  }

  // ---------------------------------------------------------------- plumbing

  #emit(f: Follow, inputs: SequencedInput[]): void {
    if (inputs.length === 0 || f.removed) return;
    f.next += inputs.length;
    this.emit('sequenced', [{ sessionId: f.sessionId, inputs }]);
  }

  #seqOf(f: Follow, kv: IKeyValue): number {
    const tail = kv.key.toString().slice(f.prefix.length);
    return /^\d{16}$/.test(tail) ? Number(tail) : -1;
  }

  /** The input at `seq`, or null (the session is stalled and `corrupt` emitted) when it does not parse. */
  #parse(f: Follow, seq: number, kv: IKeyValue): SequencedInput | null {
    let json: unknown;
    try {
      json = JSON.parse(kv.value.toString());
    } catch {
      json = undefined;
    }
    const parsed = StoredInputSchema.safeParse(json);
    if (parsed.success) {
      const { time, clientId, clientSeq, event } = parsed.data;
      return { seq, time, clientId, clientSeq, event };
    }
    const error = new CorruptInputError(`stored input ${f.sessionId}#${seq} is not a valid input`, {
      sessionId: f.sessionId,
      seq,
    });
    f.stalled = true;
    log.error({ sessionId: f.sessionId, seq, key: kv.key.toString() }, 'corrupt input in the log: feed stalled');
    this.emit('corrupt', { sessionId: f.sessionId, seq, error });
    return null;
  }
}
