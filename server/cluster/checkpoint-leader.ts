// The leader's cluster-wide snapshot checkpoint. When a session's head is
// `snapshotEvery` inputs past its last confirmed snapshot, the leader writes a
// request (fenced) that every home server's CheckpointRelay answers with its
// replicas' states. The snapshot is confirmed only when replicas on a majority
// of the session's hosts (at least two, counted from the leader's own table
// and node directory) relayed the same hash, and the stored bytes (each chunk
// sealed with the cluster secret, checkpoint-chunks.ts) re-hash to it here; then it is stored in the log, recorded (fenced) and the log is
// truncated through the previous confirmed snapshot (kept as the fallback, as
// on a single server). No quorum in time: the request is dropped, asked again.
import type { CheckpointReport, ConfirmedSnapshot } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { stateHashOf } from '../../render/app-hash.js';
import { decideClusterCheckpoint, type ClusterCheckpointDecision } from '../session-core/cluster-checkpoint-vote.js';
import { checkpointEntries, type CheckpointEntries } from './checkpoint-entries.js';
import { checkpointKeys, parseChunkKey } from './checkpoint-keys.js';
import { followConfirmedSnapshots } from './confirmed-snapshots.js';
import { CheckpointIntegrityError, NotLeaderError } from './cluster-errors.js';
import { openChunk } from './checkpoint-chunks.js';
import type { CheckpointLeaderOptions } from './cluster-checkpoint-types.js';
import { etcdCall } from './etcd-client.js';
import type { FencedOp } from './fenced-writer.js';
import type { PrefixFollower } from './prefix-follower.js';

const log = getLogger('checkpoint-leader');
/** Deletes per fenced transaction (under etcd's 128 operations). */
const SWEEP_BATCH = 100;

export class CheckpointLeader {
  readonly #o: CheckpointLeaderOptions;
  readonly #entries: CheckpointEntries;
  readonly #reports: PrefixFollower<CheckpointReport>;
  readonly #confirmed: PrefixFollower<ConfirmedSnapshot>;
  /** sessionId → the checkpoint this leader asked and has not decided. */
  readonly #pending = new Map<string, { seq: number; requestedAt: number }>();
  readonly #now: () => number;
  readonly #timer: NodeJS.Timeout;
  #running: Promise<void> | null = null;
  #closed = false;

  private constructor(
    o: CheckpointLeaderOptions,
    entries: CheckpointEntries,
    reports: PrefixFollower<CheckpointReport>,
    confirmed: PrefixFollower<ConfirmedSnapshot>,
  ) {
    this.#o = o;
    this.#entries = entries;
    this.#reports = reports;
    this.#confirmed = confirmed;
    this.#now = o.now ?? Date.now;
    this.#timer = setInterval(() => void this.runOnce(), o.everyMs ?? 1000);
    this.#timer.unref();
  }

  static async create(o: CheckpointLeaderOptions): Promise<CheckpointLeader> {
    const entries = checkpointEntries(o.secret, o.namespace, log);
    const reports = await entries.report.follow(o.client, checkpointKeys.reports(o.namespace), 'checkpoint report');
    const confirmed = await followConfirmedSnapshots(o, log);
    return new CheckpointLeader(o, entries, reports, confirmed);
  }

  /** The latest confirmed snapshot of a session (any leader's), or null. */
  confirmed(sessionId: string): ConfirmedSnapshot | null {
    // The follower keys entries below its prefix.
    const ns = this.#o.namespace;
    return this.#confirmed.get(checkpointKeys.confirmed(ns, sessionId).slice(checkpointKeys.confirmedAll(ns).length));
  }

  /** One pass over every placed session; nothing unless this server leads. */
  runOnce(): Promise<void> {
    this.#running ??= this.#pass()
      .catch((err: unknown) => {
        if (!(err instanceof NotLeaderError)) log.warn({ err }, 'checkpoint pass failed (the next one retries)');
      })
      .finally(() => (this.#running = null));
    return this.#running;
  }

  /**
   * Leader only, for the upkeep: deletes relayed checkpoint bytes nothing reads again, those of a seq at
   * or below the session's confirmed snapshot (answers relayed after it was confirmed) and those of an
   * ask this leader has since replaced (a checkpoint dropped for want of a quorum). How many keys went.
   */
  async sweepSuperseded(): Promise<number> {
    if (this.#closed || !this.#o.election.isLeader) return 0;
    const ns = this.#o.namespace;
    const keys = await etcdCall('list checkpoint chunks', () =>
      this.#o.client.getAll().prefix(checkpointKeys.dataAll(ns)).keys(),
    );
    const stale = keys.filter((key) => {
      const c = parseChunkKey(ns, key);
      if (!c) return false;
      const pending = this.#pending.get(c.sessionId)?.seq;
      return c.seq <= (this.confirmed(c.sessionId)?.seq ?? 0) || (pending !== undefined && c.seq < pending);
    });
    for (let i = 0; i < stale.length; i += SWEEP_BATCH) {
      const ops: FencedOp[] = stale.slice(i, i + SWEEP_BATCH).map((key) => ({ op: 'delete', key }));
      await this.#o.writer.write(ops);
    }
    if (stale.length > 0) log.info({ keys: stale.length }, 'superseded checkpoint chunks deleted');
    return stale.length;
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearInterval(this.#timer);
    await this.#running;
    await Promise.all([this.#reports.close(), this.#confirmed.close()]);
  }

  async #pass(): Promise<void> {
    if (this.#closed) return;
    if (!this.#o.election.isLeader) {
      // A new term starts afresh: requests of an old one are re-asked, never trusted blindly.
      this.#pending.clear();
      return;
    }
    for (const p of this.#o.placement.list()) {
      if (this.#closed || !this.#o.election.isLeader) return;
      const sessionId = p.sessionId;
      const pending = this.#pending.get(sessionId);
      if (pending) {
        const decision = this.#decide(sessionId, pending.seq);
        if (decision && (await this.#confirm(sessionId, decision))) continue;
        if (this.#now() - pending.requestedAt < (this.#o.timeoutMs ?? 10_000)) continue;
        log.warn({ sessionId, seq: pending.seq }, 'cluster checkpoint found no quorum in time; dropped');
        this.#pending.delete(sessionId);
        // Its relayed bytes stay (late answers may still make a quorum if the same seq is asked again).
        await this.#o.writer.write([{ op: 'delete', key: checkpointKeys.request(this.#o.namespace, sessionId) }]);
        continue;
      }
      const head = await this.#o.log.headSeq(sessionId);
      if (head - (this.confirmed(sessionId)?.seq ?? 0) < this.#o.snapshotEvery) continue;
      await this.#ask(sessionId, head);
    }
  }

  async #ask(sessionId: string, seq: number): Promise<void> {
    const verdict = this.#o.election.verdict();
    if (!verdict.leader) return;
    const key = checkpointKeys.request(this.#o.namespace, sessionId);
    const request = { sessionId, seq, requestedAt: this.#now(), term: verdict.revision };
    await this.#entries.request.fencedPut(this.#o.writer, key, request);
    this.#pending.set(sessionId, { seq, requestedAt: request.requestedAt });
    log.info({ sessionId, seq }, 'cluster checkpoint asked of every home server');
  }

  /** The relayed answers, counted against the leader's own table and node directory. */
  #decide(sessionId: string, seq: number): ClusterCheckpointDecision | null {
    const placement = this.#o.placement.get(sessionId);
    if (!placement) return null;
    const hostOf = new Map(this.#o.nodes.list().map((n) => [n.nodeId, n.hostId]));
    const placed = placement.replicas.flatMap((r) => {
      const hostId = hostOf.get(r.nodeId);
      return hostId ? [{ replicaId: r.replicaId, hostId, homeServerId: r.homeServerId }] : [];
    });
    const reports = [...this.#reports.entries().values()].filter((r) => r.sessionId === sessionId);
    const hosts = this.#o.replicationFactor(sessionId) ?? placement.replicas.length;
    return decideClusterCheckpoint(seq, placed, reports, hosts);
  }

  /** Re-hashes the stored bytes, stores and records the snapshot, truncates; false when the bytes do not hold. */
  async #confirm(sessionId: string, d: ClusterCheckpointDecision): Promise<boolean> {
    const ns = this.#o.namespace;
    const parts: Buffer[] = [];
    for (let i = 0; i < d.source.chunks; i++) {
      const key = checkpointKeys.chunk(ns, sessionId, d.seq, d.stateHash, i);
      const raw = await etcdCall('checkpoint chunk', () => this.#o.client.get(key).string());
      if (raw === null) return false;
      const place = { sessionId, seq: d.seq, stateHash: d.stateHash, index: i, total: d.source.chunks };
      try {
        parts.push(openChunk(this.#o.secret, { ...place, bytes: d.source.bytes }, raw));
      } catch (err) {
        if (!(err instanceof CheckpointIntegrityError)) throw err;
        // Planted or altered: refused. No quorum from it: the request times out and is asked again.
        log.warn({ key, server: d.source.serverId, err: err.message }, 'relayed checkpoint chunk refused');
        return false;
      }
    }
    const data = Buffer.concat(parts);
    if (data.length !== d.source.bytes || stateHashOf(data) !== d.stateHash) {
      log.warn(
        { sessionId, seq: d.seq, server: d.source.serverId },
        'stored checkpoint bytes do not hash to the quorum',
      );
      return false;
    }
    const verdict = this.#o.election.verdict();
    if (!verdict.leader) return false;
    const previousSeq = this.confirmed(sessionId)?.seq ?? null;
    const key = checkpointKeys.confirmed(ns, sessionId);
    const record: ConfirmedSnapshot = {
      sessionId,
      seq: d.seq,
      stateHash: d.stateHash,
      hosts: d.hosts,
      previousSeq: previousSeq !== null && previousSeq < d.seq ? previousSeq : null,
      term: verdict.revision,
      confirmedAt: this.#now(),
    };
    // Fenced, and first: a deposed leader's confirmation is refused (it steps down) before it stores anything.
    await this.#entries.confirmed.fencedPut(this.#o.writer, key, record, [
      { op: 'delete', key: checkpointKeys.request(ns, sessionId) },
      // Every relayed byte of the session goes: this seq's and any older checkpoint's.
      { op: 'delete-prefix', prefix: checkpointKeys.data(ns, sessionId) },
    ]);
    // The record only says where to look: servers adopt the snapshot once the log holds it.
    await this.#o.log.putSnapshot({ sessionId, seq: d.seq, stateHash: d.stateHash, data });
    this.#pending.delete(sessionId);
    let truncated = 0;
    if (record.previousSeq !== null && this.#o.election.isLeader) {
      await this.#o.log.deleteSnapshots(sessionId, { beforeSeq: record.previousSeq });
      truncated = await this.#o.log.truncateThrough(sessionId, record.previousSeq);
    }
    log.info(
      { sessionId, seq: d.seq, hosts: d.hosts, bytes: data.length, truncatedThrough: record.previousSeq, truncated },
      'cluster checkpoint confirmed by a majority of hosts',
    );
    return true;
  }
}
