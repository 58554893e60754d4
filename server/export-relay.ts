// Take your work out: the session's document as a file (writer .txt/.md, the
// sheet .csv, paint .png), exported by replicas at one seq — the head when
// asked, so every acknowledged input is in it. A renderer node may be hostile,
// so one replica's file is never served alone: every live replica is asked for
// the file at that seq, and the bytes are served only when replicas on a
// majority of the session's distinct hosts (at least two) produced exactly the
// same bytes — the rule snapshots follow (snapshot-checkpoint.ts).
// In a cluster the session's replicas are homed on several servers: those
// homed elsewhere are asked through their home servers (ExportPeers, the
// signed server-to-server path), which relay their nodes' answers and decide
// nothing; this server counts hosts from its own view (placement table and
// node directory), never from what a relay or a node says.
import { createHash, randomBytes } from 'node:crypto';
import type { PeerExportAnswer, PeerExportRequest } from '../protocol/cluster.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import { EXPORT_FORMATS, type ExportFormat } from '../render/sdk/manifest.js';
import type { AppFormats } from './app-formats.js';
import { BadRequestError, ConflictError, NotFoundError, RateLimitedError, UnavailableError } from './errors.js';
import type { SessionManager } from './session-manager.js';
import { SnapshotCheckpoint } from './session-core/snapshot-checkpoint.js';

const log = getLogger('export-relay');

export interface ExportedFile {
  format: ExportFormat;
  mime: string;
  bytes: Buffer;
  /** The seq the file reflects. */
  seq: number;
  /** Hosts whose replicas produced these exact bytes. */
  hosts: string[];
}

/** A replica homed on another server, as this server's own table and directory place it. */
export interface RemoteExportTarget {
  replicaId: string;
  nodeId: string;
  hostId: string;
  homeServerId: string;
}

/** The session's replicas on other servers (cluster mode; server/cluster/export-peers.ts). */
export interface ExportPeers {
  /** Replicas of the session homed on other live servers (this server's view). */
  remoteTargets(sessionId: string): RemoteExportTarget[];
  /** Asks `homeServerId` for these replicas' files at `atSeq`; its answers, unverified. */
  ask(homeServerId: string, req: PeerExportRequest): Promise<PeerExportAnswer[]>;
}

/** One answer as it arrives: from a node of this server, or relayed by a replica's home server. */
interface Answer {
  replicaId: string;
  nodeId: string;
  seq: number;
  bytes: Buffer | null;
  error?: string;
}

interface Pending {
  sessionId: string;
  /** replicaId → nodeId of the replicas asked on this server's own nodes. */
  nodes: Map<string, string>;
  answered: Set<string>;
  onAnswer: (a: Answer) => void;
}

/** Exports and relays in flight across all sessions: a bound, not a fairness scheme. */
const MAX_PENDING = 64;
/** In flight per session, so one session's viewers (a share link among them) cannot take the whole bound. */
const MAX_PENDING_PER_SESSION = 4;

export class ExportRelay {
  readonly #manager: SessionManager;
  readonly #formats: AppFormats;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();
  /** Every export and relay in flight: each ends itself when the server closes. */
  readonly #aborts = new Set<() => void>();
  /** sessionId → exports and relays of it in flight. */
  readonly #perSession = new Map<string, number>();
  #peers: ExportPeers | null = null;

  constructor(manager: SessionManager, formats: AppFormats, timeoutMs = 10_000) {
    this.#manager = manager;
    this.#formats = formats;
    this.#timeoutMs = timeoutMs;
  }

  /** Cluster mode: the session's replicas on other servers are asked too. */
  usePeers(peers: ExportPeers): void {
    this.#peers = peers;
  }

  /** How long a home server waits for its nodes on another server's behalf: less than the asker waits. */
  get relayTimeoutMs(): number {
    return Math.max(500, Math.floor(this.#timeoutMs * 0.8));
  }

  /** The formats the session's app offers. */
  formats(sessionId: string): ExportFormat[] {
    return this.#formats.exportsOf(this.#manager.get(sessionId).meta.app);
  }

  export(sessionId: string, format: string): Promise<ExportedFile> {
    const session = this.#manager.get(sessionId);
    const offered = this.#offered(sessionId, format);
    const atSeq = session.headSeq;
    const local = this.#localTargets(sessionId);
    const localIds = new Set(local.map((t) => t.replicaId));
    const remote = (this.#peers?.remoteTargets(sessionId) ?? []).filter((t) => !localIds.has(t.replicaId));
    const targets = [...local, ...remote];
    const checkpoint = new SnapshotCheckpoint(atSeq, targets, session.meta.replicationFactor, Date.now());
    if (new Set(targets.map((t) => t.hostId)).size < checkpoint.quorum) {
      throw new UnavailableError(
        `an export needs ${checkpoint.quorum} live replicas on different hosts to agree; ${targets.length} live now`,
        { sessionId },
      );
    }
    const release = this.#admit(sessionId);
    const requestId = `ex-${randomBytes(8).toString('hex')}`;
    /** replicaId → the node it must come from (this server's view), for local and relayed answers alike. */
    const expected = new Map(targets.map((t) => [t.replicaId, t.nodeId]));
    const answered = new Set<string>();
    return new Promise<ExportedFile>((resolve, reject) => {
      let done = false;
      const finish = (): void => {
        done = true;
        release();
        this.#pending.delete(requestId);
        clearTimeout(timer);
        this.#aborts.delete(abort);
      };
      const abort = (): void => {
        finish();
        reject(new UnavailableError('server closing', { sessionId }));
      };
      const timer = setTimeout(() => {
        finish();
        reject(new UnavailableError('replicas did not agree on the export in time', { sessionId, seq: atSeq }));
      }, this.#timeoutMs);
      timer.unref();
      this.#aborts.add(abort);
      const take = (a: Answer, via: string): void => {
        if (done || expected.get(a.replicaId) !== a.nodeId || answered.has(a.replicaId)) {
          if (!done) log.warn({ sessionId, replicaId: a.replicaId, via }, 'export answer not asked for: ignored');
          return;
        }
        answered.add(a.replicaId);
        if (a.bytes === null || a.bytes.length > LIMITS.maxExportBytes) {
          log.warn(
            { sessionId, replicaId: a.replicaId, via, error: a.error, size: a.bytes?.length },
            'replica could not export',
          );
        } else {
          try {
            // The "state hash" of an export is the digest of its bytes: agreeing hosts produced identical files.
            checkpoint.report(a.replicaId, a.seq, createHash('sha256').update(a.bytes).digest('hex'), a.bytes);
          } catch (err) {
            log.warn({ sessionId, replicaId: a.replicaId, via, err }, 'export answer refused');
          }
        }
        const decision = checkpoint.decision();
        if (decision) {
          finish();
          resolve({
            format: offered,
            mime: EXPORT_FORMATS[offered],
            bytes: decision.data,
            seq: decision.seq,
            hosts: decision.hosts,
          });
        } else if (answered.size === expected.size) {
          finish();
          log.warn({ sessionId, seq: atSeq }, 'replicas disagree on the export: nothing served');
          reject(new ConflictError('replicas on different hosts did not produce the same file', { seq: atSeq }));
        }
      };
      this.#askLocal(requestId, sessionId, local, atSeq, offered, (a) => take(a, 'node'));
      const byHome = new Map<string, RemoteExportTarget[]>();
      for (const t of remote) byHome.set(t.homeServerId, [...(byHome.get(t.homeServerId) ?? []), t]);
      for (const [home, ts] of byHome) {
        const ids = ts.map((t) => t.replicaId);
        const gaveUp = (why: string): void => {
          log.warn({ sessionId, home, why }, 'home server did not relay the export');
          for (const t of ts)
            take({ replicaId: t.replicaId, nodeId: t.nodeId, seq: atSeq, bytes: null, error: why }, home);
        };
        this.#peers
          ?.ask(home, { sessionId, atSeq, format: offered, replicaIds: ids })
          .then((answers) => {
            // A home server vouches only for the replicas homed on it, each once.
            const mine = new Map(ts.map((t) => [t.replicaId, t.nodeId]));
            for (const a of answers) {
              if (mine.get(a.replicaId) !== a.nodeId) continue;
              mine.delete(a.replicaId);
              take(
                {
                  replicaId: a.replicaId,
                  nodeId: a.nodeId,
                  seq: a.seq,
                  bytes: a.data === null ? null : Buffer.from(a.data, 'base64'),
                },
                home,
              );
            }
            for (const t of ts)
              if (mine.has(t.replicaId))
                take({ replicaId: t.replicaId, nodeId: t.nodeId, seq: atSeq, bytes: null, error: 'no answer' }, home);
          })
          .catch((err: unknown) => gaveUp(err instanceof Error ? err.message : String(err)));
      }
    });
  }

  /**
   * Another server's export (cluster mode, its signed request): asks this
   * server's own live replicas among `req.replicaIds` for the file and returns
   * what each answered, or null for those that did not answer within the relay
   * timeout. It decides nothing: the asking server counts hosts.
   */
  relay(req: PeerExportRequest): Promise<PeerExportAnswer[]> {
    const offered = this.#offered(req.sessionId, req.format);
    const wanted = new Set(req.replicaIds);
    const local = this.#localTargets(req.sessionId).filter((t) => wanted.has(t.replicaId));
    if (local.length === 0) return Promise.resolve([]);
    const release = this.#admit(req.sessionId);
    const requestId = `ex-${randomBytes(8).toString('hex')}`;
    const answers = new Map<string, PeerExportAnswer>();
    return new Promise<PeerExportAnswer[]>((resolve) => {
      const finish = (): void => {
        release();
        this.#pending.delete(requestId);
        clearTimeout(timer);
        this.#aborts.delete(finish);
        resolve([...answers.values()]);
      };
      const timer = setTimeout(finish, this.relayTimeoutMs);
      timer.unref();
      this.#aborts.add(finish);
      this.#askLocal(requestId, req.sessionId, local, req.atSeq, offered, (a) => {
        answers.set(a.replicaId, {
          replicaId: a.replicaId,
          nodeId: a.nodeId,
          seq: a.seq,
          data: a.bytes === null || a.bytes.length > LIMITS.maxExportBytes ? null : a.bytes.toString('base64'),
        });
        if (answers.size === local.length) finish();
      });
    });
  }

  /** A node's answer; only the node and replica that were asked may answer, once. */
  answer(nodeId: string, replicaId: string, requestId: string, seq: number, data: string | null, error?: string): void {
    const p = this.#pending.get(requestId);
    if (!p || p.nodes.get(replicaId) !== nodeId || p.answered.has(replicaId)) {
      throw new NotFoundError(`no export request ${requestId} for replica ${replicaId}`, { requestId, replicaId });
    }
    p.answered.add(replicaId);
    const bytes = data === null ? null : Buffer.from(data, 'base64');
    p.onAnswer({ replicaId, nodeId, seq, bytes, ...(error === undefined ? {} : { error }) });
  }

  /** Takes a slot for one export or relay of the session (refused past the bounds); the answer gives it back, once. */
  #admit(sessionId: string): () => void {
    if (this.#aborts.size >= MAX_PENDING) throw new RateLimitedError('too many exports in flight', {});
    const mine = this.#perSession.get(sessionId) ?? 0;
    if (mine >= MAX_PENDING_PER_SESSION) {
      throw new RateLimitedError(`at most ${MAX_PENDING_PER_SESSION} exports of a session in flight`, { sessionId });
    }
    this.#perSession.set(sessionId, mine + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.#perSession.get(sessionId) ?? 1) - 1;
      if (left > 0) this.#perSession.set(sessionId, left);
      else this.#perSession.delete(sessionId);
    };
  }

  close(): void {
    for (const abort of [...this.#aborts]) abort();
    this.#pending.clear();
  }

  #offered(sessionId: string, format: string): ExportFormat {
    const session = this.#manager.get(sessionId);
    const offered = this.#formats.exportsOf(session.meta.app).find((f) => f === format);
    if (!offered) {
      throw new BadRequestError(
        `${session.meta.app.name} exports ${this.formats(sessionId).join(', ')}, not "${format}"`,
        { sessionId, format },
      );
    }
    return offered;
  }

  /** The session's live replicas on nodes connected to this server. */
  #localTargets(sessionId: string): Array<{ replicaId: string; hostId: string; nodeId: string }> {
    return this.#manager
      .get(sessionId)
      .activeReplicas()
      .filter((r) => r.state === 'live' && this.#manager.nodes.get(r.nodeId))
      .map((r) => ({ replicaId: r.replicaId, hostId: r.hostId, nodeId: r.nodeId }));
  }

  #askLocal(
    requestId: string,
    sessionId: string,
    targets: ReadonlyArray<{ replicaId: string; nodeId: string }>,
    atSeq: number,
    format: ExportFormat,
    onAnswer: (a: Answer) => void,
  ): void {
    if (targets.length === 0) return;
    this.#pending.set(requestId, {
      sessionId,
      nodes: new Map(targets.map((t) => [t.replicaId, t.nodeId])),
      answered: new Set(),
      onAnswer,
    });
    for (const t of targets) {
      this.#manager.nodes
        .get(t.nodeId)
        ?.notify({ type: 'replica.exportRequest', replicaId: t.replicaId, requestId, atSeq, format });
    }
  }
}
