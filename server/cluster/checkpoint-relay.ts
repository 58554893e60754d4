// A home server's part in the cluster-wide checkpoint: it follows the
// leader's requests and asks its own replicas (the session core verifies each
// answer's bytes against its hash), stores the bytes in etcd content-addressed
// and chunked, and relays the answers in one sealed report per session under
// its lease, each chunk sealed (checkpoint-chunks.ts), written again whenever the registry takes a new
// lease (a lapsed one took them along: relayed-answers.ts). It decides nothing: the leader counts hosts and re-hashes. It also
// follows the confirmed snapshots so the core restores new replicas from them,
// once the bytes the log stores re-hash to the sealed record.
import {
  CheckpointReportSchema,
  type CheckpointReport,
  type CheckpointRequest,
  type ConfirmedSnapshot,
} from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { sealChunk, verifyStoredSnapshot } from './checkpoint-chunks.js';
import { checkpointEntries, type CheckpointEntries } from './checkpoint-entries.js';
import { checkpointKeys } from './checkpoint-keys.js';
import { CheckpointIntegrityError } from './cluster-errors.js';
import { followConfirmedSnapshots } from './confirmed-snapshots.js';
import type { CheckpointRelayOptions } from './cluster-checkpoint-types.js';
import type { PrefixFollower } from './prefix-follower.js';
import { RelayedAnswers } from './relayed-answers.js';

const log = getLogger('checkpoint-relay');

type Answer = { sessionId: string; replicaId: string; seq: number; stateHash: string; data: Buffer };

export class CheckpointRelay {
  readonly #o: CheckpointRelayOptions;
  readonly #entries: CheckpointEntries;
  readonly #requests: PrefixFollower<CheckpointRequest>;
  readonly #confirmed: PrefixFollower<ConfirmedSnapshot>;
  /** The answers relayed so far per session (for the latest seq asked), with their bytes. */
  readonly #answers = new RelayedAnswers();
  readonly #onAnswer = (a: Answer): void => {
    this.#chain = this.#chain
      .then(() => this.#relay(a))
      .catch((err: unknown) => log.warn({ err }, 'answer not relayed'));
  };
  /** A closed session's last report is forgotten here (the leader's upkeep deletes the stored ones). */
  readonly #onClosed = ({ sessionId }: { sessionId: string }): void => this.#answers.forget(sessionId);
  /** A new registry lease: what was under the lapsed one is gone from etcd, so it is all written again. */
  readonly #onRegistered = (): void => {
    this.#chain = this.#chain
      .then(() => this.#rewrite())
      .catch((err: unknown) => log.warn({ err }, 'relayed answers not written again (the next lease retries)'));
  };
  #chain: Promise<void> = Promise.resolve();

  private constructor(
    o: CheckpointRelayOptions,
    entries: CheckpointEntries,
    requests: PrefixFollower<CheckpointRequest>,
    confirmed: PrefixFollower<ConfirmedSnapshot>,
  ) {
    this.#o = o;
    this.#entries = entries;
    this.#requests = requests;
    this.#confirmed = confirmed;
    requests.on('put', (_k, r) => o.manager.checkpointWanted(r.sessionId, r.seq));
    confirmed.on('put', (_k, c) => {
      this.#answers.confirmed(c.sessionId, c.seq);
      this.#adopt(c);
    });
    o.manager.on('checkpointanswer', this.#onAnswer);
    o.manager.on('sessionclosed', this.#onClosed);
    o.registry.on('registered', this.#onRegistered);
    for (const r of requests.entries().values()) o.manager.checkpointWanted(r.sessionId, r.seq);
  }

  static async create(o: CheckpointRelayOptions): Promise<CheckpointRelay> {
    const entries = checkpointEntries(o.secret, o.namespace, log);
    const requests = await entries.request.follow(o.client, checkpointKeys.requests(o.namespace), 'checkpoint request');
    const confirmed = await followConfirmedSnapshots(o, log);
    return new CheckpointRelay(o, entries, requests, confirmed);
  }

  async close(): Promise<void> {
    this.#o.manager.off('checkpointanswer', this.#onAnswer);
    this.#o.manager.off('sessionclosed', this.#onClosed);
    this.#o.registry.off('registered', this.#onRegistered);
    await this.#chain;
    await Promise.all([this.#requests.close(), this.#confirmed.close()]);
  }

  /** Bytes first, then the report naming them: the leader never reads a report whose chunks are missing. */
  async #relay(a: Answer): Promise<void> {
    // Answered while the session closed: relaying it would leave keys the upkeep already purged.
    if (!this.#o.manager.sessions.has(a.sessionId)) return;
    // Kept before it is written: if there is no lease right now, the next one writes it.
    const report = CheckpointReportSchema.parse(
      this.#answers.add(this.#o.registry.self.id, a, this.#chunkCount(a.data)),
    );
    await this.#putChunks(a.sessionId, a.seq, a.stateHash, a.data);
    await this.#putReport(report);
    log.debug(
      { sessionId: a.sessionId, replicaId: a.replicaId, seq: a.seq },
      'checkpoint answer relayed to the leader',
    );
  }

  #chunkCount(data: Buffer): number {
    return Math.max(1, Math.ceil(data.length / (this.#o.chunkBytes ?? 512 * 1024)));
  }

  async #putChunks(sessionId: string, seq: number, stateHash: string, data: Buffer): Promise<void> {
    const size = this.#o.chunkBytes ?? 512 * 1024;
    const chunks = this.#chunkCount(data);
    for (let i = 0; i < chunks; i++) {
      const place = { sessionId, seq, stateHash, index: i, total: chunks };
      const sealed = sealChunk(
        this.#o.secret,
        { ...place, bytes: data.length },
        data.subarray(i * size, (i + 1) * size),
      );
      await this.#o.registry.putUnderLease(
        checkpointKeys.chunk(this.#o.namespace, sessionId, seq, stateHash, i),
        sealed,
      );
    }
  }

  async #putReport(report: CheckpointReport): Promise<void> {
    const key = checkpointKeys.report(this.#o.namespace, report.serverId, report.sessionId);
    await this.#o.registry.putUnderLease(key, this.#entries.report.seal(key, report));
  }

  /** Every session's latest report and the bytes it names, under the new lease (bytes first). */
  async #rewrite(): Promise<void> {
    let n = 0;
    for (const { report, data } of this.#answers.all()) {
      if (!this.#o.manager.sessions.has(report.sessionId)) {
        this.#answers.forget(report.sessionId);
        continue;
      }
      for (const [hash, bytes] of data) await this.#putChunks(report.sessionId, report.seq, hash, bytes);
      await this.#putReport(report);
      n++;
    }
    if (n > 0) log.info({ sessions: n }, 'relayed checkpoint answers written again under the new lease');
  }

  /**
   * The core learns the confirmed snapshot from the log itself (the record only
   * says where to look; the leader stores the bytes right after recording it).
   */
  #adopt(c: ConfirmedSnapshot, attempt = 0): void {
    if (!this.#o.manager.sessions.has(c.sessionId)) return;
    this.#verifyStored(c)
      .then(() => this.#o.manager.adoptClusterSnapshot(c.sessionId))
      .then((durable) => {
        const behind = durable !== null && (durable.snapshot?.seq ?? 0) < c.seq;
        if (!behind || attempt >= 20) return;
        setTimeout(() => this.#adopt(c, attempt + 1), 250).unref();
      })
      .catch((err: unknown) => {
        if (err instanceof CheckpointIntegrityError) {
          log.warn({ sessionId: c.sessionId, seq: c.seq, err: err.message }, 'stored snapshot refused: not adopted');
        } else log.warn({ err, sessionId: c.sessionId }, 'confirmed snapshot not adopted');
      });
  }

  /**
   * The record is sealed, the log's snapshot store is not: bytes stored at the
   * record's seq must carry its hash and re-hash to it, or nothing is adopted.
   * (Not there yet: adopt() finds the log behind and tries again.)
   */
  async #verifyStored(c: ConfirmedSnapshot): Promise<void> {
    verifyStoredSnapshot(await this.#o.log.latestSnapshot(c.sessionId), c);
  }
}
