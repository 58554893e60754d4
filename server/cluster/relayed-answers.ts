// What a home server has relayed of its replicas' checkpoint answers, per
// session: the report for the latest seq asked (every answer of it so far) and
// the bytes each state hash named in it (answers of equal hash share them).
// The report and the chunks live in etcd under the server's registry lease;
// when that lease lapses (under load, a keepalive late) etcd deletes them, so
// on the next lease the relay writes everything here again (issue 13: they
// were lost, and the leader never counted those answers). Kept until the
// session's snapshot at that seq is confirmed, or the session closes. Pure.
import type { CheckpointReport } from '../../protocol/cluster-state.js';

export interface RelayedAnswer {
  sessionId: string;
  replicaId: string;
  seq: number;
  stateHash: string;
  data: Buffer;
}

export interface RelayedSession {
  report: CheckpointReport;
  /** State hash → the bytes (every hash the report names). */
  data: ReadonlyMap<string, Buffer>;
}

export class RelayedAnswers {
  readonly #bySession = new Map<string, { report: CheckpointReport; data: Map<string, Buffer> }>();

  /**
   * Takes one answer (stored in `chunks` chunks) into its session's report and
   * returns that report: the answers so far of its seq (an answer of another
   * seq starts a new report, as the leader asks one seq at a time).
   */
  add(serverId: string, a: RelayedAnswer, chunks: number): CheckpointReport {
    const prior = this.#bySession.get(a.sessionId);
    const same = prior?.report.seq === a.seq ? prior : undefined;
    const answers = (same?.report.answers ?? []).filter((x) => x.replicaId !== a.replicaId);
    answers.push({ replicaId: a.replicaId, stateHash: a.stateHash, bytes: a.data.length, chunks });
    const data = new Map(same?.data ?? []);
    data.set(a.stateHash, a.data);
    // Bytes no answer names any more (a replica answered again with another hash) are not kept.
    for (const hash of [...data.keys()]) if (!answers.some((x) => x.stateHash === hash)) data.delete(hash);
    const report: CheckpointReport = { serverId, sessionId: a.sessionId, seq: a.seq, answers };
    this.#bySession.set(a.sessionId, { report, data });
    return report;
  }

  /** Everything to write again under a new lease. */
  all(): RelayedSession[] {
    return [...this.#bySession.values()];
  }

  get(sessionId: string): RelayedSession | undefined {
    return this.#bySession.get(sessionId);
  }

  /** A snapshot at `seq` was confirmed: answers at or below it are of no more use. */
  confirmed(sessionId: string, seq: number): void {
    const s = this.#bySession.get(sessionId);
    if (s && s.report.seq <= seq) this.#bySession.delete(sessionId);
  }

  /** The session closed here. */
  forget(sessionId: string): void {
    this.#bySession.delete(sessionId);
  }
}
