// InputLog on etcd: every acknowledged input is fsynced on a majority of the
// etcd members before appendBatch returns, so the log survives the loss of any
// one machine. Same contract as SqliteInputLog (one suite tests both).
//
// Key layout (ids are encodeURIComponent'd, so they never contain "/"; seqs
// are zero-padded to 16 digits so key order is seq order):
//   <ns>log/<session>/head                         highest seq ever assigned (decimal)
//   <ns>log/<session>/in/<seq>                     one input: JSON {time, clientId, clientSeq, event, w}
//   <ns>log/<session>/client/<client>              highest clientSeq logged for the client (decimal)
//   <ns>log/<session>/by-client/<client>/<cseq>    seq of that client input (the idempotency index)
//   <ns>snap/<session>/meta/<seq>                  JSON {stateHash, bytes, chunks, upload, createdAt}
//   <ns>snap/<session>/data/<seq>/<upload>/<i>     snapshot bytes, chunk i (each under 1 MiB)
//
// Writes: a batch is cut into transactions within etcd's limits (128 operations
// and 1.5 MiB per request by default). Each transaction compares the mod
// revision of every head and client key it read, so two writers (two log
// instances, later two servers) can never both take a seq: the loser re-reads
// and retries. `w` tags each input with the transaction attempt that wrote it:
// when a commit's reply was lost (leader killed mid-request) and the retry finds
// the input already there, it is recognised as this call's own write (new,
// not a duplicate) rather than as a client's replay.
import { randomBytes } from 'node:crypto';
import type { Etcd3, IKeyValue, IOptions } from 'etcd3';
import { z } from 'zod';
import { InputEventSchema, type SequencedInput } from '../../protocol/input.js';
import { getLogger } from '../../protocol/logger.js';
import {
  ClosedError,
  CorruptInputError,
  DurabilityError,
  PartialAppendError,
  UnsafeTruncationError,
} from '../errors.js';
import { requireInt, requireSameSnapshot, requireSnapshotArgs, requireSnapshotWithinHead } from '../input-log-args.js';
import { etcdCall, openEtcdClient } from '../cluster/etcd-client.js';
import {
  COMPACTED_SEQ,
  type AppendRequest,
  type AppendResult,
  type InputLog,
  type StoredSnapshot,
} from '../input-log.js';

const log = getLogger('etcd-input-log');

export interface EtcdInputLogOptions {
  /** Client URLs of the etcd members (http://host:2379, …). */
  hosts: string[];
  /** Key prefix, so several deployments (or tests) can share one etcd. Default "lockstep/". */
  namespace?: string;
  /** Deadline of each etcd call in ms (default 2000): no quorum must fail fast, never hang. */
  callTimeoutMs?: number;
  /** Operations per transaction (etcd's --max-txn-ops, default 128). */
  maxTxnOps?: number;
  /** Bytes of keys + values per transaction, kept under etcd's --max-request-bytes (1.5 MiB). Default 1 MiB. */
  maxTxnBytes?: number;
  /** Snapshot chunk size (default 512 KiB; must stay under maxTxnBytes). */
  snapshotChunkBytes?: number;
  /** Clock for snapshot createdAt. */
  now?: () => number;
  /** TLS for the etcd client connection (see SECURITY.md). */
  credentials?: IOptions['credentials'];
}

/** One stored input row (InputFeed parses the same rows). */
export const StoredInputSchema = z.object({
  time: z.number(),
  clientId: z.string(),
  clientSeq: z.number().int(),
  event: InputEventSchema,
  w: z.string(),
});
type StoredInput = z.infer<typeof StoredInputSchema>;

const SnapshotMetaSchema = z.object({
  stateHash: z.string(),
  bytes: z.number().int().nonnegative(),
  chunks: z.number().int().nonnegative(),
  upload: z.string(),
  createdAt: z.number(),
});
type SnapshotMeta = z.infer<typeof SnapshotMetaSchema>;

/** Compare-and-retry attempts before a contended transaction gives up. */
const MAX_ATTEMPTS = 30;
/** Per-input overhead estimate (key bytes, JSON framing, the index entry) for transaction sizing. */
const INPUT_OVERHEAD_BYTES = 256;
/** Inputs read per range request: stays well under gRPC's 4 MiB reply limit with 64 KiB pastes. */
export const READ_PAGE = 32;
/** Inputs deleted per truncation transaction (2 operations each). */
const TRUNCATE_PAGE = 60;

const pad = (n: number): string => n.toString().padStart(16, '0');
const enc = (id: string): string => encodeURIComponent(id);

interface Keyed {
  value: string | null;
  /** mod_revision as etcd reports it ("0" for a missing key: what a compare against it sees). */
  rev: string;
}

interface Chunk {
  reqs: AppendRequest[];
  tag: string;
}

export class EtcdInputLog implements InputLog {
  readonly #client: Etcd3;
  readonly #ns: string;
  readonly #maxOps: number;
  readonly #maxBytes: number;
  readonly #chunkBytes: number;
  readonly #now: () => number;
  #closed = false;

  private constructor(client: Etcd3, options: EtcdInputLogOptions) {
    this.#client = client;
    this.#ns = options.namespace ?? 'lockstep/';
    this.#maxOps = options.maxTxnOps ?? 128;
    this.#maxBytes = options.maxTxnBytes ?? 1024 * 1024;
    this.#chunkBytes = Math.min(options.snapshotChunkBytes ?? 512 * 1024, this.#maxBytes - 4096);
    this.#now = options.now ?? Date.now;
  }

  /** Connects and checks that the cluster answers (a read needs a quorum leader). */
  static async connect(options: EtcdInputLogOptions): Promise<EtcdInputLog> {
    const client = openEtcdClient(options);
    const inputLog = new EtcdInputLog(client, options);
    try {
      await inputLog.ping();
    } catch (err) {
      client.close();
      throw err;
    }
    log.info({ hosts: options.hosts, namespace: inputLog.#ns }, 'etcd input log connected');
    return inputLog;
  }

  async appendBatch(reqs: AppendRequest[]): Promise<AppendResult[]> {
    this.#assertOpen();
    if (reqs.length === 0) return [];
    const callId = randomBytes(6).toString('hex');
    const results: AppendResult[] = [];
    let k = 0;
    for (const chunk of this.#chunks(reqs, callId)) {
      try {
        results.push(...(await this.#appendChunk(chunk)));
      } catch (err) {
        if (k === 0) throw err;
        throw new PartialAppendError(
          'input batch was written only in part',
          results,
          { requests: reqs.length },
          { cause: err },
        );
      }
      k++;
    }
    return results;
  }

  async read(sessionId: string, fromSeq: number, toSeq: number, limit: number): Promise<SequencedInput[]> {
    this.#assertOpen();
    const ctx = { sessionId };
    requireInt('fromSeq', fromSeq, 0, ctx);
    requireInt('toSeq', toSeq, 0, ctx);
    requireInt('limit', limit, 0, ctx);
    const out: SequencedInput[] = [];
    let start = this.#inputKey(sessionId, fromSeq);
    const end = this.#inputKey(sessionId, toSeq + 1);
    while (out.length < limit && toSeq >= fromSeq) {
      const page = Math.min(READ_PAGE, limit - out.length);
      const res = await this.#call('read', () =>
        this.#client.getAll().inRange({ start, end }).sort('Key', 'Ascend').limit(page).exec(),
      );
      for (const kv of res.kvs) {
        const seq = Number(kv.key.toString().slice(-16));
        const stored = this.#parseInput(sessionId, seq, kv.value.toString());
        out.push({
          seq,
          time: stored.time,
          clientId: stored.clientId,
          clientSeq: stored.clientSeq,
          event: stored.event,
        });
      }
      const last = res.kvs[res.kvs.length - 1];
      if (!last || res.kvs.length < page) break;
      start = `${last.key.toString()}\u0000`;
    }
    return out;
  }

  async headSeq(sessionId: string): Promise<number> {
    this.#assertOpen();
    const v = (await this.#get(this.#headKey(sessionId))).value;
    return v === null ? 0 : Number(v);
  }

  async lastClientSeq(sessionId: string, clientId: string): Promise<number> {
    this.#assertOpen();
    const v = (await this.#get(this.#clientKey(sessionId, clientId))).value;
    return v === null ? -1 : Number(v);
  }

  async putSnapshot(s: Omit<StoredSnapshot, 'createdAt'>): Promise<void> {
    this.#assertOpen();
    requireSnapshotArgs(s);
    requireSnapshotWithinHead(s, await this.headSeq(s.sessionId));
    const metaKey = this.#snapMetaKey(s.sessionId, s.seq);
    const existing = await this.#snapshotMeta(s.sessionId, metaKey);
    if (existing) return requireSameSnapshot(existing.stateHash, s);
    // Chunks first, under a fresh upload id; the meta key then publishes them
    // atomically (a reader never sees a snapshot whose bytes are missing).
    const upload = randomBytes(6).toString('hex');
    const chunks = Math.ceil(s.data.length / this.#chunkBytes);
    for (let i = 0; i < chunks; i++) {
      const part = s.data.subarray(i * this.#chunkBytes, (i + 1) * this.#chunkBytes);
      await this.#call('snapshot chunk', () =>
        this.#client
          .put(this.#snapDataKey(s.sessionId, s.seq, upload, i))
          .value(part)
          .exec(),
      );
    }
    const meta: SnapshotMeta = { stateHash: s.stateHash, bytes: s.data.length, chunks, upload, createdAt: this.#now() };
    const res = await this.#call('snapshot', () =>
      this.#client
        .if(metaKey, 'Create', '==', 0)
        .then(this.#client.put(metaKey).value(JSON.stringify(meta)))
        .else(this.#client.delete().prefix(this.#snapUploadPrefix(s.sessionId, s.seq, upload)))
        .commit(),
    );
    if (res.succeeded) return;
    // Someone stored this seq meanwhile: same rules as if it had been there first.
    const winner = await this.#snapshotMeta(s.sessionId, metaKey);
    if (winner) requireSameSnapshot(winner.stateHash, s);
  }

  async latestSnapshot(sessionId: string): Promise<StoredSnapshot | null> {
    this.#assertOpen();
    const latest = await this.#latestMeta(sessionId);
    return latest && this.#loadSnapshot(sessionId, latest.seq, latest.meta);
  }

  async snapshotAt(sessionId: string, seq: number): Promise<StoredSnapshot | null> {
    this.#assertOpen();
    const meta = await this.#snapshotMeta(sessionId, this.#snapMetaKey(sessionId, seq));
    return meta && this.#loadSnapshot(sessionId, seq, meta);
  }

  async snapshotBefore(sessionId: string, seq: number): Promise<StoredSnapshot | null> {
    this.#assertOpen();
    const before = await this.#latestMeta(sessionId, seq);
    return before && this.#loadSnapshot(sessionId, before.seq, before.meta);
  }

  async deleteSnapshots(sessionId: string, range: { beforeSeq: number } | { onlySeq: number }): Promise<number> {
    this.#assertOpen();
    // Meta first: once it is gone no reader looks for the bytes, which go next.
    if ('beforeSeq' in range) {
      const metas = { start: this.#snapMetaKey(sessionId, 0), end: this.#snapMetaKey(sessionId, range.beforeSeq) };
      const datas = {
        start: this.#snapDataPrefix(sessionId, 0),
        end: this.#snapDataPrefix(sessionId, range.beforeSeq),
      };
      const res = await this.#call('delete snapshots', () => this.#client.delete().inRange(metas).exec());
      await this.#call('delete snapshots', () => this.#client.delete().inRange(datas).exec());
      return Number(res.deleted);
    }
    const metaKey = this.#snapMetaKey(sessionId, range.onlySeq);
    const res = await this.#call('delete snapshot', () => this.#client.delete().key(metaKey).exec());
    await this.#call('delete snapshot', () =>
      this.#client.delete().prefix(this.#snapDataPrefix(sessionId, range.onlySeq)).exec(),
    );
    return Number(res.deleted);
  }

  async #loadSnapshot(sessionId: string, seq: number, meta: SnapshotMeta): Promise<StoredSnapshot> {
    const parts: Buffer[] = [];
    for (let i = 0; i < meta.chunks; i++) {
      const part = await this.#call('snapshot chunk', () =>
        this.#client.get(this.#snapDataKey(sessionId, seq, meta.upload, i)).buffer(),
      );
      if (!part) throw new CorruptInputError(`snapshot ${sessionId}@${seq} is missing chunk ${i}`, { sessionId, seq });
      parts.push(part);
    }
    const data = Buffer.concat(parts);
    if (data.length !== meta.bytes) {
      throw new CorruptInputError(`snapshot ${sessionId}@${seq} has ${data.length} bytes, expected ${meta.bytes}`, {
        sessionId,
        seq,
      });
    }
    return { sessionId, seq, stateHash: meta.stateHash, data, createdAt: meta.createdAt };
  }

  async truncateThrough(sessionId: string, uptoSeq: number): Promise<number> {
    this.#assertOpen();
    requireInt('uptoSeq', uptoSeq, 0, { sessionId });
    const latest = await this.#latestMeta(sessionId);
    // Inputs are the only copy of state not covered by a snapshot: refuse to lose them.
    if (!latest || latest.seq < uptoSeq) {
      throw new UnsafeTruncationError(`no snapshot covers seq ${uptoSeq}`, {
        sessionId,
        uptoSeq,
        latestSnapshotSeq: latest?.seq ?? null,
      });
    }
    let removed = 0;
    const range = { start: this.#inputKey(sessionId, 0), end: this.#inputKey(sessionId, uptoSeq + 1) };
    for (;;) {
      const res = await this.#call('truncate', () =>
        this.#client.getAll().inRange(range).sort('Key', 'Ascend').limit(TRUNCATE_PAGE).exec(),
      );
      if (res.kvs.length === 0) break;
      const deletes = res.kvs.flatMap((kv) => this.#deletesFor(sessionId, kv));
      await this.#call('truncate', () =>
        this.#client
          .if(this.#headKey(sessionId), 'Version', '>', 0)
          .then(...deletes)
          .commit(),
      );
      removed += res.kvs.length;
    }
    // Snapshots stay (as in SqliteInputLog): the session manager keeps the
    // previous confirmed one as a fallback and prunes with deleteSnapshots.
    log.debug({ sessionId, uptoSeq, removed }, 'truncated input log');
    return removed;
  }

  async ping(): Promise<void> {
    this.#assertOpen();
    // A linearizable read: answered only by a leader that has a quorum behind it.
    await this.#get(this.#headKey(''));
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      this.#client.close();
    }
    return Promise.resolve();
  }

  // ---------------------------------------------------------------- appends

  /** Cuts a batch into transactions within the op and byte limits (a conservative estimate). */
  *#chunks(reqs: AppendRequest[], callId: string): Generator<Chunk> {
    let current: AppendRequest[] = [];
    let ops = 0;
    let bytes = 0;
    const sessions = new Set<string>();
    const clients = new Set<string>();
    let index = 0;
    for (const req of reqs) {
      const clientKey = `${req.sessionId}\u0000${req.clientId}`;
      // 2 puts per input, plus one head put per session and one client put per client
      // (and as many compares, which etcd bounds separately but by the same number).
      const addOps = 2 + (sessions.has(req.sessionId) ? 0 : 1) + (clients.has(clientKey) ? 0 : 1);
      const addBytes = JSON.stringify(req.event).length + INPUT_OVERHEAD_BYTES;
      if (current.length > 0 && (ops + addOps > this.#maxOps || bytes + addBytes > this.#maxBytes)) {
        yield { reqs: current, tag: `${callId}.${index++}` };
        current = [];
        ops = 0;
        bytes = 0;
        sessions.clear();
        clients.clear();
      }
      current.push(req);
      ops += 2 + (sessions.has(req.sessionId) ? 0 : 1) + (clients.has(clientKey) ? 0 : 1);
      bytes += addBytes;
      sessions.add(req.sessionId);
      clients.add(clientKey);
    }
    if (current.length > 0) yield { reqs: current, tag: `${callId}.${index}` };
  }

  async #appendChunk(chunk: Chunk): Promise<AppendResult[]> {
    for (let attempt = 1; ; attempt++) {
      const planned = await this.#plan(chunk);
      if (planned.puts.length === 0) return planned.results;
      let txn = this.#client.if(planned.compares[0]?.key ?? '', 'Mod', '==', planned.compares[0]?.rev ?? '0');
      for (const c of planned.compares.slice(1)) txn = txn.and(c.key, 'Mod', '==', c.rev);
      const puts = planned.puts.map(([key, value]) => this.#client.put(key).value(value));
      const res = await this.#call('append', () => txn.then(...puts).commit());
      if (res.succeeded) return planned.results;
      // Another writer moved a head or client key since we read it: read again.
      if (attempt >= MAX_ATTEMPTS) {
        throw new DurabilityError('input log contention: gave up after retries', { attempts: attempt });
      }
      log.debug({ attempt, tag: chunk.tag }, 'append raced another writer; retrying');
    }
  }

  /** Reads the heads and client seqs a chunk touches and computes its results and writes. */
  async #plan(chunk: Chunk): Promise<{
    results: AppendResult[];
    puts: Array<[string, string]>;
    compares: Array<{ key: string; rev: string }>;
  }> {
    const sessionIds = [...new Set(chunk.reqs.map((r) => r.sessionId))];
    const clientPairs = [
      ...new Map(chunk.reqs.map((r) => [`${r.sessionId}\u0000${r.clientId}`, [r.sessionId, r.clientId]])).values(),
    ];
    const [heads, clients] = await Promise.all([
      Promise.all(sessionIds.map((s) => this.#get(this.#headKey(s)))),
      Promise.all(clientPairs.map(([s, c]) => this.#get(this.#clientKey(s ?? '', c ?? '')))),
    ]);
    const head = new Map<string, number>();
    const compares: Array<{ key: string; rev: string }> = [];
    sessionIds.forEach((s, i) => {
      const h = heads[i] ?? { value: null, rev: '0' };
      head.set(s, h.value === null ? 0 : Number(h.value));
      compares.push({ key: this.#headKey(s), rev: h.rev });
    });
    const last = new Map<string, number>();
    clientPairs.forEach(([s, c], i) => {
      const v = clients[i] ?? { value: null, rev: '0' };
      last.set(`${s}\u0000${c}`, v.value === null ? -1 : Number(v.value));
      compares.push({ key: this.#clientKey(s ?? '', c ?? ''), rev: v.rev });
    });

    const results: AppendResult[] = [];
    const puts: Array<[string, string]> = [];
    /** (session, client, clientSeq) → result, for requests seen earlier in this chunk. */
    const seen = new Map<string, AppendResult>();
    const dirtyHeads = new Set<string>();
    const dirtyClients = new Map<string, [string, string]>();
    for (const req of chunk.reqs) {
      const ck = `${req.sessionId}\u0000${req.clientId}`;
      const rk = `${ck}\u0000${req.clientSeq}`;
      const earlier = seen.get(rk);
      if (earlier) {
        results.push({ input: earlier.input, duplicate: true });
        continue;
      }
      const prev = last.get(ck) ?? -1;
      if (req.clientSeq <= prev) {
        const replay = await this.#replay(req, chunk.tag);
        seen.set(rk, replay);
        results.push(replay);
        continue;
      }
      const seq = (head.get(req.sessionId) ?? 0) + 1;
      head.set(req.sessionId, seq);
      last.set(ck, req.clientSeq);
      dirtyHeads.add(req.sessionId);
      dirtyClients.set(ck, [req.sessionId, req.clientId]);
      const stored: StoredInput = {
        time: req.time,
        clientId: req.clientId,
        clientSeq: req.clientSeq,
        event: req.event,
        w: chunk.tag,
      };
      puts.push([this.#inputKey(req.sessionId, seq), JSON.stringify(stored)]);
      puts.push([this.#byClientKey(req.sessionId, req.clientId, req.clientSeq), String(seq)]);
      const result: AppendResult = {
        input: { seq, time: req.time, clientId: req.clientId, clientSeq: req.clientSeq, event: req.event },
        duplicate: false,
      };
      seen.set(rk, result);
      results.push(result);
    }
    for (const s of dirtyHeads) puts.push([this.#headKey(s), String(head.get(s) ?? 0)]);
    for (const [ck, [s, c]] of dirtyClients) puts.push([this.#clientKey(s, c), String(last.get(ck) ?? -1)]);
    return { results, puts, compares };
  }

  /** A clientSeq at or below the client's last: the logged original, or COMPACTED_SEQ if truncated. */
  async #replay(req: AppendRequest, tag: string): Promise<AppendResult> {
    const seqText = (await this.#get(this.#byClientKey(req.sessionId, req.clientId, req.clientSeq))).value;
    const raw = seqText === null ? null : (await this.#get(this.#inputKey(req.sessionId, Number(seqText)))).value;
    if (seqText === null || raw === null) {
      return {
        input: {
          seq: COMPACTED_SEQ,
          time: req.time,
          clientId: req.clientId,
          clientSeq: req.clientSeq,
          event: req.event,
        },
        duplicate: true,
      };
    }
    const seq = Number(seqText);
    const stored = this.#parseInput(req.sessionId, seq, raw);
    return {
      input: { seq, time: stored.time, clientId: stored.clientId, clientSeq: stored.clientSeq, event: stored.event },
      // Written by an earlier attempt of this very transaction whose reply was lost: new, not a replay.
      duplicate: stored.w !== tag,
    };
  }

  // ---------------------------------------------------------------- snapshots

  async #snapshotMeta(sessionId: string, metaKey: string): Promise<SnapshotMeta | null> {
    const raw = (await this.#get(metaKey)).value;
    return raw === null ? null : this.#parseMeta(sessionId, metaKey, raw);
  }

  /** The newest snapshot meta of the session (with seq < beforeSeq when given). */
  async #latestMeta(sessionId: string, beforeSeq?: number): Promise<{ seq: number; meta: SnapshotMeta } | null> {
    const prefix = `${this.#ns}snap/${enc(sessionId)}/meta/`;
    const res = await this.#call('snapshot', () =>
      (beforeSeq === undefined
        ? this.#client.getAll().prefix(prefix)
        : this.#client.getAll().inRange({ start: prefix, end: this.#snapMetaKey(sessionId, beforeSeq) })
      )
        .sort('Key', 'Descend')
        .limit(1)
        .exec(),
    );
    const kv = res.kvs[0];
    if (!kv) return null;
    const key = kv.key.toString();
    return { seq: Number(key.slice(-16)), meta: this.#parseMeta(sessionId, key, kv.value.toString()) };
  }

  #parseMeta(sessionId: string, key: string, raw: string): SnapshotMeta {
    try {
      return SnapshotMetaSchema.parse(JSON.parse(raw));
    } catch (err) {
      throw new CorruptInputError(`stored snapshot meta ${key} is not valid`, { sessionId, key }, { cause: err });
    }
  }

  // ---------------------------------------------------------------- plumbing

  #deletesFor(sessionId: string, kv: IKeyValue): ReturnType<Etcd3['delete']>[] {
    const key = kv.key.toString();
    const ops = [this.#client.delete().key(key)];
    const seq = Number(key.slice(-16));
    try {
      const stored = this.#parseInput(sessionId, seq, kv.value.toString());
      ops.push(this.#client.delete().key(this.#byClientKey(sessionId, stored.clientId, stored.clientSeq)));
    } catch {
      // A corrupt row has no index entry we can name; deleting the row is all there is to do.
    }
    return ops;
  }

  #parseInput(sessionId: string, seq: number, raw: string): StoredInput {
    try {
      return StoredInputSchema.parse(JSON.parse(raw));
    } catch (err) {
      throw new CorruptInputError(
        `stored input ${sessionId}#${seq} is not a valid InputEvent`,
        { sessionId, seq },
        { cause: err },
      );
    }
  }

  async #get(key: string): Promise<Keyed> {
    const res = await this.#call('read', () => this.#client.get(key).exec());
    const kv = res.kvs[0];
    return kv ? { value: kv.value.toString(), rev: kv.mod_revision } : { value: null, rev: '0' };
  }

  /** Runs one etcd call; any failure of the store becomes a DurabilityError naming the operation. */
  #call<T>(op: string, fn: () => Promise<T>): Promise<T> {
    return etcdCall(op, fn);
  }

  #headKey(sessionId: string): string {
    return `${this.#ns}log/${enc(sessionId)}/head`;
  }

  #inputKey(sessionId: string, seq: number): string {
    return `${this.#ns}log/${enc(sessionId)}/in/${pad(seq)}`;
  }

  #clientKey(sessionId: string, clientId: string): string {
    return `${this.#ns}log/${enc(sessionId)}/client/${enc(clientId)}`;
  }

  #byClientKey(sessionId: string, clientId: string, clientSeq: number): string {
    return `${this.#ns}log/${enc(sessionId)}/by-client/${enc(clientId)}/${pad(clientSeq)}`;
  }

  #snapMetaKey(sessionId: string, seq: number): string {
    return `${this.#ns}snap/${enc(sessionId)}/meta/${pad(seq)}`;
  }

  #snapDataPrefix(sessionId: string, seq: number): string {
    return `${this.#ns}snap/${enc(sessionId)}/data/${pad(seq)}/`;
  }

  #snapUploadPrefix(sessionId: string, seq: number, upload: string): string {
    return `${this.#snapDataPrefix(sessionId, seq)}${upload}/`;
  }

  #snapDataKey(sessionId: string, seq: number, upload: string, i: number): string {
    return `${this.#snapUploadPrefix(sessionId, seq, upload)}${i.toString().padStart(6, '0')}`;
  }

  #assertOpen(): void {
    if (this.#closed) throw new ClosedError('input log is closed');
  }
}
