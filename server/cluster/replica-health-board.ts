// What each home server says of its replicas, for the leader: one entry per
// (server, session) under the server's registry lease (gone with it), sealed
// with the cluster secret. A report lists the replicas the server runs
// (state, applied seq, hash) and those it gave up (dead, refused,
// quarantined): the leader cannot see another server's nodes, so this is how
// it learns a failure there and re-places the replica. Writes are coalesced:
// the latest report per session is written at most every flushEveryMs, and
// an unchanged one not at all.
import { SessionHealthReportSchema, type SessionHealthReport } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { etcdCall } from './etcd-client.js';
import type { PrefixFollower } from './prefix-follower.js';
import type { ReplicaHealthBoardEvents, ReplicaHealthBoardOptions } from './replica-health-board-types.js';
import { SignedEntry } from './signed-entry.js';

const log = getLogger('replica-health-board');
const PURPOSE = 'health-entry';
const enc = (s: string): string => encodeURIComponent(s);

export class ReplicaHealthBoard extends TypedEmitter<ReplicaHealthBoardEvents> {
  readonly #o: ReplicaHealthBoardOptions;
  readonly #codec: SignedEntry<SessionHealthReport>;
  readonly #follower: PrefixFollower<SessionHealthReport>;
  readonly #serverId: string;
  /** This server's latest report per session, and what was last written for it. */
  readonly #mine = new Map<string, { report: SessionHealthReport; written: string | null }>();
  readonly #dirty = new Set<string>();
  readonly #onRegistered = (): void => {
    for (const [sessionId, m] of this.#mine) {
      m.written = null;
      this.#dirty.add(sessionId);
    }
  };
  #timer: NodeJS.Timeout;
  #flushing = false;
  #closed = false;

  private constructor(
    options: ReplicaHealthBoardOptions,
    codec: SignedEntry<SessionHealthReport>,
    follower: PrefixFollower<SessionHealthReport>,
  ) {
    super();
    this.#o = options;
    this.#codec = codec;
    this.#serverId = options.registry.self.id;
    this.#follower = follower;
    follower.on('put', (_key, r) => this.emit('changed', r.sessionId));
    follower.on('delete', (_key, r) => this.emit('changed', r.sessionId));
    options.registry.on('registered', this.#onRegistered);
    this.#timer = setInterval(() => void this.#flush(), options.flushEveryMs ?? 500);
    this.#timer.unref();
  }

  static async create(options: ReplicaHealthBoardOptions): Promise<ReplicaHealthBoard> {
    const prefix = `${options.namespace}cluster/health/`;
    const codec = new SignedEntry({
      secret: options.secret,
      purpose: PURPOSE,
      schema: SessionHealthReportSchema,
      log,
      keyOf: (r) => `${prefix}${enc(r.serverId)}/${enc(r.sessionId)}`,
    });
    return new ReplicaHealthBoard(options, codec, await codec.follow(options.client, prefix, 'replica health'));
  }

  /** Every live server's reports on one session. */
  reportsOn(sessionId: string): SessionHealthReport[] {
    return [...this.#follower.entries().values()].filter((r) => r.sessionId === sessionId);
  }

  /** This server's report on a session now: written within flushEveryMs unless it did not change. */
  report(report: Omit<SessionHealthReport, 'serverId'>): void {
    const full = SessionHealthReportSchema.parse({ ...report, serverId: this.#serverId });
    const m = this.#mine.get(full.sessionId);
    if (m) m.report = full;
    else this.#mine.set(full.sessionId, { report: full, written: null });
    this.#dirty.add(full.sessionId);
  }

  /** The session is gone here: its report goes too. */
  async forget(sessionId: string): Promise<void> {
    this.#dirty.delete(sessionId);
    if (!this.#mine.delete(sessionId)) return;
    await etcdCall('delete health report', () => this.#o.client.delete().key(this.#key(sessionId)).exec());
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    this.#o.registry.off('registered', this.#onRegistered);
    await this.#follower.close();
  }

  async #flush(): Promise<void> {
    if (this.#flushing || this.#closed) return;
    this.#flushing = true;
    try {
      for (const sessionId of [...this.#dirty]) {
        this.#dirty.delete(sessionId);
        const m = this.#mine.get(sessionId);
        if (!m) continue;
        const key = this.#key(sessionId);
        const sealed = this.#codec.seal(key, m.report);
        // The seal covers the whole report: an unchanged one is not written again.
        if (sealed === m.written) continue;
        try {
          await this.#o.registry.putUnderLease(key, sealed);
          m.written = sealed;
        } catch (err) {
          this.#dirty.add(sessionId);
          log.debug({ err, sessionId }, 'health report not written (retried on the next flush)');
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  #key(sessionId: string): string {
    return `${this.#follower.prefix}${enc(this.#serverId)}/${enc(sessionId)}`;
  }
}
