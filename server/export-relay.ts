// Take your work out: the session's document as a file (writer .txt/.md, the
// sheet .csv, paint .png), exported by replicas at one seq — the head when
// asked, so every acknowledged input is in it. A renderer node may be hostile,
// so one replica's file is never served alone: every live replica is asked for
// the file at that seq, and the bytes are served only when replicas on a
// majority of the session's distinct hosts (at least two) produced exactly the
// same bytes — the rule snapshots follow (snapshot-checkpoint.ts).
import { createHash, randomBytes } from 'node:crypto';
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

interface Pending {
  sessionId: string;
  checkpoint: SnapshotCheckpoint;
  /** replicaId → nodeId of the replicas asked. */
  nodes: Map<string, string>;
  answered: Set<string>;
  format: ExportFormat;
  resolve: (f: ExportedFile) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Exports in flight across all sessions: a bound, not a fairness scheme. */
const MAX_PENDING = 64;

export class ExportRelay {
  readonly #manager: SessionManager;
  readonly #formats: AppFormats;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();

  constructor(manager: SessionManager, formats: AppFormats, timeoutMs = 10_000) {
    this.#manager = manager;
    this.#formats = formats;
    this.#timeoutMs = timeoutMs;
  }

  /** The formats the session's app offers. */
  formats(sessionId: string): ExportFormat[] {
    return this.#formats.exportsOf(this.#manager.get(sessionId).meta.app);
  }

  export(sessionId: string, format: string): Promise<ExportedFile> {
    const session = this.#manager.get(sessionId);
    const offered = this.#formats.exportsOf(session.meta.app).find((f) => f === format);
    if (!offered) {
      throw new BadRequestError(
        `${session.meta.app.name} exports ${this.formats(sessionId).join(', ')}, not "${format}"`,
        {
          sessionId,
          format,
        },
      );
    }
    const atSeq = session.headSeq;
    const targets = session
      .activeReplicas()
      .filter((r) => r.state === 'live' && this.#manager.nodes.get(r.nodeId))
      .map((r) => ({ replicaId: r.replicaId, hostId: r.hostId, nodeId: r.nodeId }));
    const checkpoint = new SnapshotCheckpoint(atSeq, targets, session.meta.replicationFactor, Date.now());
    if (new Set(targets.map((t) => t.hostId)).size < checkpoint.quorum) {
      throw new UnavailableError(
        `an export needs ${checkpoint.quorum} live replicas on different hosts to agree; ${targets.length} live now`,
        { sessionId },
      );
    }
    if (this.#pending.size >= MAX_PENDING) throw new RateLimitedError('too many exports in flight', {});
    const requestId = `ex-${randomBytes(8).toString('hex')}`;
    return new Promise<ExportedFile>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new UnavailableError('replicas did not agree on the export in time', { sessionId, seq: atSeq }));
      }, this.#timeoutMs);
      timer.unref();
      this.#pending.set(requestId, {
        sessionId,
        checkpoint,
        nodes: new Map(targets.map((t) => [t.replicaId, t.nodeId])),
        answered: new Set(),
        format: offered,
        resolve,
        reject,
        timer,
      });
      for (const t of targets) {
        this.#manager.nodes
          .get(t.nodeId)
          ?.notify({ type: 'replica.exportRequest', replicaId: t.replicaId, requestId, atSeq, format: offered });
      }
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
    if (bytes === null || bytes.length > LIMITS.maxExportBytes) {
      log.warn({ sessionId: p.sessionId, replicaId, error, size: bytes?.length }, 'replica could not export');
    } else {
      try {
        // The "state hash" of an export is the digest of its bytes: agreeing hosts produced identical files.
        p.checkpoint.report(replicaId, seq, createHash('sha256').update(bytes).digest('hex'), bytes);
      } catch (err) {
        log.warn({ sessionId: p.sessionId, replicaId, err }, 'export answer refused');
      }
    }
    const decision = p.checkpoint.decision();
    if (decision) {
      this.#settle(requestId, p);
      p.resolve({
        format: p.format,
        mime: EXPORT_FORMATS[p.format],
        bytes: decision.data,
        seq: decision.seq,
        hosts: decision.hosts,
      });
    } else if (p.answered.size === p.nodes.size) {
      this.#settle(requestId, p);
      log.warn({ sessionId: p.sessionId, seq }, 'replicas disagree on the export: nothing served');
      p.reject(new ConflictError('replicas on different hosts did not produce the same file', { seq }));
    }
  }

  #settle(requestId: string, p: Pending): void {
    this.#pending.delete(requestId);
    clearTimeout(p.timer);
  }

  close(): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new UnavailableError('server closing', {}));
    }
    this.#pending.clear();
  }
}
