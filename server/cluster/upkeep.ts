// The leader's upkeep of etcd, on a schedule: delete the keys of closed
// sessions (their input log, snapshots, checkpoint request, record, relayed
// bytes and every server's relayed report), found from what etcd holds (the
// close's `sess/closed/<id>` mark, deleted with them), not from what this
// leader saw close: a session closed under an earlier leader or through another
// server is purged the same (issue 13). Then compact the
// revision history behind a window, and defragment the members one at a time
// (a member is blocked while it defragments, so never all at once). Only the leader does
// it: key deletions go through its FencedWriter; compaction and defrag are
// maintenance calls outside transactions, so they are skipped unless the
// local term is live (two servers compacting the same revision is harmless).
import type { Etcd3 } from 'etcd3';
import { getLogger } from '../../protocol/logger.js';
import { closedSessionIds, closedSessionKey, closedSessionsPrefix } from '../store/etcd-session-store.js';
import { checkpointKeys } from './checkpoint-keys.js';
import { ClosedMarkSweep } from './closed-mark-sweep.js';
import type { ClusterSecret } from './cluster-secret.js';
import { NotLeaderError } from './cluster-errors.js';
import { etcdCall, openEtcdClient } from './etcd-client.js';
import type { FencedWriter } from './fenced-writer.js';
import type { LeaderElection } from './leader-election.js';

const log = getLogger('upkeep');

export interface UpkeepOptions {
  client: Etcd3;
  election: LeaderElection;
  writer: FencedWriter;
  /** Every member's client URL (defragmented one by one). */
  memberUrls: string[];
  namespace: string;
  /**
   * The cluster secret: given, each pass first runs the one-time backfill of
   * closed-session marks (closed-mark-sweep.ts) until it is done.
   */
  secret?: ClusterSecret;
  /** Told which closed sessions a pass purged. */
  purged?: (sessionIds: string[]) => void;
  /** Revisions kept behind the head (watchers that fall further behind re-list; default 10 000). */
  keepRevisions?: number;
  /** Run every this many ms (default 5 minutes); defragment every `defragEvery` runs (default 12: hourly). */
  everyMs?: number;
  defragEvery?: number;
}

export interface UpkeepReport {
  /** Closed sessions from before the close's marks, marked by the backfill in this pass (purged in the same pass). */
  marked: number;
  purgedSessions: number;
  /** Keys the registered sweeps deleted (superseded checkpoint chunks). */
  swept: number;
  compactedTo: string | null;
  defragmented: number;
}

/** Session ids are encodeURIComponent'd in keys (see EtcdInputLog). */
const enc = (id: string): string => encodeURIComponent(id);

export class Upkeep {
  readonly #o: Required<Omit<UpkeepOptions, 'purged' | 'secret'>> & Pick<UpkeepOptions, 'purged'>;
  readonly #backfill: ClosedMarkSweep | null;
  #timer: NodeJS.Timeout | null = null;
  #runs = 0;
  #running: Promise<UpkeepReport> | null = null;
  /** Jobs parts built later add (the checkpoint leader's chunk sweep): each deletes what it owns, returns how many. */
  readonly #sweeps = new Map<string, () => Promise<number>>();

  private constructor(options: UpkeepOptions) {
    const { secret, ...rest } = options;
    this.#o = { keepRevisions: 10_000, everyMs: 300_000, defragEvery: 12, ...rest };
    this.#backfill = secret
      ? new ClosedMarkSweep({ client: options.client, namespace: options.namespace, writer: options.writer, secret })
      : null;
  }

  /** Starts the schedule (the first run after one period). */
  static async create(options: UpkeepOptions): Promise<Upkeep> {
    const upkeep = new Upkeep(options);
    upkeep.#timer = setInterval(() => {
      void upkeep.runOnce().catch((err: unknown) => log.warn({ err }, 'upkeep run failed (next period retries)'));
    }, upkeep.#o.everyMs);
    upkeep.#timer.unref();
    return Promise.resolve(upkeep);
  }

  /** One pass; does nothing (and reports nothing done) unless this server leads. */
  runOnce(defragment = ++this.#runs % this.#o.defragEvery === 0): Promise<UpkeepReport> {
    this.#running ??= this.#pass(defragment).finally(() => (this.#running = null));
    return this.#running;
  }

  /** Runs `sweep` in every pass while this server leads (after the purge); returns its removal. */
  addSweep(what: string, sweep: () => Promise<number>): () => void {
    this.#sweeps.set(what, sweep);
    return () => void this.#sweeps.delete(what);
  }

  async close(): Promise<void> {
    if (this.#timer) clearInterval(this.#timer);
    this.#timer = null;
    await this.#running?.catch(() => undefined);
  }

  async #pass(defragment: boolean): Promise<UpkeepReport> {
    const report: UpkeepReport = { marked: 0, purgedSessions: 0, swept: 0, compactedTo: null, defragmented: 0 };
    if (!this.#o.election.isLeader) return report;
    try {
      if (this.#backfill) report.marked = (await this.#backfill.runOnce()).marked;
      report.purgedSessions = await this.#purgeClosed();
      for (const sweep of this.#sweeps.values()) report.swept += await sweep();
    } catch (err) {
      if (err instanceof NotLeaderError) return report;
      throw err;
    }
    if (!this.#o.election.isLeader) return report;
    report.compactedTo = await this.#compact();
    if (defragment) report.defragmented = await this.#defragment();
    log.info(report, 'upkeep pass done');
    return report;
  }

  async #purgeClosed(): Promise<number> {
    const ns = this.#o.namespace;
    const marks = await etcdCall('list closed sessions', () =>
      this.#o.client.getAll().prefix(closedSessionsPrefix(ns)).keys(),
    );
    const ids = closedSessionIds(ns, marks);
    const done: string[] = [];
    // Every server's relayed checkpoint report (<server>/<session>): under a lease that lives as long as
    // its server, so a closed session's reports would stay that long.
    const reports = ids.length === 0 ? [] : await this.#reportKeys();
    for (const id of ids) {
      const ofSession = reports.filter((k) => k.endsWith(`/${enc(id)}`));
      await this.#o.writer.write([
        { op: 'delete-prefix', prefix: `${ns}log/${enc(id)}/` },
        { op: 'delete-prefix', prefix: `${ns}snap/${enc(id)}/` },
        { op: 'delete', key: checkpointKeys.request(ns, id) },
        { op: 'delete', key: checkpointKeys.confirmed(ns, id) },
        { op: 'delete-prefix', prefix: checkpointKeys.data(ns, id) },
        ...ofSession.map((key) => ({ op: 'delete' as const, key })),
        { op: 'delete', key: closedSessionKey(ns, id) },
      ]);
      done.push(id);
    }
    if (done.length > 0) this.#o.purged?.(done);
    return done.length;
  }

  async #reportKeys(): Promise<string[]> {
    const prefix = checkpointKeys.reports(this.#o.namespace);
    return etcdCall('list checkpoint reports', () => this.#o.client.getAll().prefix(prefix).keys());
  }

  async #compact(): Promise<string | null> {
    const head = await etcdCall('status', () => this.#o.client.get(`${this.#o.namespace}cluster/leader`).exec());
    const target = BigInt(head.header.revision) - BigInt(this.#o.keepRevisions);
    if (target <= 1n) return null;
    try {
      await etcdCall('compact', () => this.#o.client.kv.compact({ revision: target.toString(), physical: true }));
    } catch (err) {
      // Already compacted at or past it (another pass, an old leader): nothing to do.
      if (err instanceof Error && /compacted/i.test(err.message)) return null;
      throw err;
    }
    return target.toString();
  }

  async #defragment(): Promise<number> {
    let n = 0;
    for (const url of this.#o.memberUrls) {
      if (!this.#o.election.isLeader) break;
      // One member at a time, through a client bound to that member only.
      const member = openEtcdClient({ hosts: [url], callTimeoutMs: 60_000 });
      try {
        await etcdCall('defragment', () => member.maintenance.defragment());
        n++;
      } catch (err) {
        log.warn({ url, err: err instanceof Error ? err.message : String(err) }, 'defragment failed: next member');
      } finally {
        member.close();
      }
    }
    return n;
  }
}

/** What one member reports of its database: bytes allocated (what the quota counts) and logically in use. */
export interface MemberDbStatus {
  dbSize: number;
  dbSizeInUse: number;
}

/** Each member's database status, in memberUrls' order, for benches and /metrics. */
export async function memberDbStatus(memberUrls: string[]): Promise<MemberDbStatus[]> {
  return Promise.all(
    memberUrls.map(async (url) => {
      const member = openEtcdClient({ hosts: [url] });
      try {
        const s = await etcdCall('status', () => member.maintenance.status());
        return { dbSize: Number(s.dbSize), dbSizeInUse: Number(s.dbSizeInUse) };
      } finally {
        member.close();
      }
    }),
  );
}

/** The database size each member reports (bytes allocated). */
export async function memberDbSizes(memberUrls: string[]): Promise<number[]> {
  return (await memberDbStatus(memberUrls)).map((s) => s.dbSize);
}
