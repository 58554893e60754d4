// The one-time backfill of closed-session marks (issue 13 leftover). The
// leader's upkeep purges a closed session's keys when it finds the close's
// `sess/closed/<id>` mark; sessions closed before the close wrote marks have
// none, so their input log, snapshots and checkpoint keys were never purged.
// This sweep walks every session record once, in key order, and writes the
// mark for each closed one without it; the next purge then deletes them as it
// does any other (already-purged ones cost one empty purge each, once).
//
// Leader-fenced: each page of marks is written in one FencedWriter
// transaction together with the sweep's progress (the last record key done),
// so a leader that loses its term mid-way writes nothing more, and the next
// leader resumes after the last page committed. Idempotent: a mark written
// twice is the same mark, and once the walk reaches the end the progress says
// done and later passes read one key. The progress is sealed under the cluster
// secret: a party with etcd access alone cannot mark the sweep done (nor move
// it on); an entry that does not open is logged and the walk starts over.
import type { Etcd3 } from 'etcd3';
import { z } from 'zod';
import { getLogger } from '../../protocol/logger.js';
import { closedSessionKey, sessionRecordsPrefix, SessionRecordSchema } from '../store/etcd-session-store.js';
import type { ClusterSecret } from './cluster-secret.js';
import { etcdCall } from './etcd-client.js';
import type { FencedOp, FencedWriter } from './fenced-writer.js';
import { parseJson, SignedEntry } from './signed-entry.js';

const log = getLogger('closed-mark-sweep');

const ProgressSchema = z
  .object({
    /** The last session record key the walk has done ('' before the first page). */
    after: z.string().max(4096),
    done: z.boolean(),
    marked: z.number().int().nonnegative(),
    term: z.string().regex(/^\d{1,20}$/),
  })
  .strict();
type Progress = z.infer<typeof ProgressSchema>;
/** A page's marks and the progress go in one transaction: under etcd's default 128 operations. */
const MAX_PAGE = 127;

export interface ClosedMarkSweepOptions {
  client: Etcd3;
  namespace: string;
  writer: FencedWriter;
  secret: ClusterSecret;
  /** Records read per page, and at most that many marks per fenced transaction (default 100, under etcd's 128 ops). */
  pageSize?: number;
}

export interface ClosedMarkSweepResult {
  /** Marks this run wrote. */
  marked: number;
  /** The walk has reached the end (this run or an earlier one). */
  done: boolean;
}

export class ClosedMarkSweep {
  readonly #o: ClosedMarkSweepOptions;
  readonly #key: string;
  readonly #codec: SignedEntry<Progress>;
  /** Seen done here: later passes skip even the read. */
  #done = false;

  constructor(o: ClosedMarkSweepOptions) {
    this.#o = o;
    this.#key = `${o.namespace}cluster/sweeps/closed-marks`;
    const key = this.#key;
    this.#codec = new SignedEntry({
      secret: o.secret,
      purpose: 'closed-mark-sweep',
      schema: ProgressSchema,
      log,
      keyOf: () => key,
    });
  }

  /** Leader only (NotLeaderError otherwise): walks the records from where the sweep stands to the end. */
  async runOnce(): Promise<ClosedMarkSweepResult> {
    if (this.#done) return { marked: 0, done: true };
    const term = this.#o.writer.term({ sweep: 'closed-marks' });
    const stored = await etcdCall('read closed-mark sweep', () => this.#o.client.get(this.#key).string());
    let progress: Progress = (stored === null ? null : this.#codec.tryOpen(this.#key, stored)) ?? {
      after: '',
      done: false,
      marked: 0,
      term,
    };
    let marked = 0;
    while (!progress.done) {
      const page = await this.#page(progress.after);
      const next: Progress = {
        after: page.last ?? progress.after,
        done: !page.more,
        marked: progress.marked + page.marks.length,
        term,
      };
      await this.#codec.fencedPut(this.#o.writer, this.#key, next, page.marks);
      marked += page.marks.length;
      progress = next;
    }
    this.#done = true;
    if (marked > 0) log.info({ marked, total: progress.marked }, 'closed sessions without a mark marked for the purge');
    return { marked, done: true };
  }

  /** One page of records after `after`: the marks its closed sessions lack. */
  async #page(after: string): Promise<{ marks: FencedOp[]; last: string | null; more: boolean }> {
    const ns = this.#o.namespace;
    const prefix = sessionRecordsPrefix(ns);
    const start = after === '' ? prefix : `${after}\u0000`;
    const end = `${prefix.slice(0, -1)}0`; // "/" + 1: the end of the prefix range
    const res = await etcdCall('list session records', () =>
      this.#o.client
        .getAll()
        .inRange({ start, end })
        .sort('Key', 'Ascend')
        .limit(Math.min(this.#o.pageSize ?? 100, MAX_PAGE))
        .exec(),
    );
    const closed: { key: string; closedAt: number }[] = [];
    for (const kv of res.kvs) {
      const recKey = kv.key.toString();
      const r = SessionRecordSchema.safeParse(parseJson(kv.value.toString()));
      if (!r.success || `${prefix}${encodeURIComponent(r.data.id)}` !== recKey) {
        log.warn({ key: recKey }, 'session record does not parse or is under another key: skipped');
        continue;
      }
      if (r.data.closedAt !== null) closed.push({ key: closedSessionKey(ns, r.data.id), closedAt: r.data.closedAt });
    }
    const marks: FencedOp[] = [];
    for (const c of closed) {
      // A mark already there (the close wrote it) is left as it is.
      const has = await etcdCall('read closed mark', () => this.#o.client.get(c.key).string());
      if (has === null) marks.push({ op: 'put', key: c.key, value: String(c.closedAt) });
    }
    return { marks, last: res.kvs[res.kvs.length - 1]?.key.toString() ?? null, more: res.more };
  }
}
