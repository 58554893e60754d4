// Copy out of the app: a viewer asks for the app's clipboard text (its
// selection); the server forwards the question to the node of one live
// replica, which answers once that replica applied the viewer's inputs. Every
// replica holds the same state at the same seq, so any live one will do; the
// one the viewer watches is preferred.
import { randomBytes } from 'node:crypto';
import type { CopyResult } from '../protocol/signalling.js';
import { LIMITS } from '../protocol/limits.js';
import { BadRequestError, NotFoundError, RateLimitedError, UnavailableError } from './errors.js';
import type { SessionManager } from './session-manager.js';

interface Pending {
  nodeId: string;
  replicaId: string;
  resolve: (r: CopyResult) => void;
  reject: (e: Error) => void;
  timer: NodeJS.Timeout;
}

/** Copies in flight across all viewers: a bound, not a fairness scheme. */
const MAX_PENDING = 256;

export class ClipboardRelay {
  readonly #manager: SessionManager;
  readonly #timeoutMs: number;
  readonly #pending = new Map<string, Pending>();

  constructor(manager: SessionManager, timeoutMs = 5000) {
    this.#manager = manager;
    this.#timeoutMs = timeoutMs;
  }

  copy(sessionId: string, atSeq: number, preferReplicaId?: string): Promise<CopyResult> {
    const session = this.#manager.get(sessionId);
    if (atSeq > session.headSeq) {
      throw new BadRequestError(`seq ${atSeq} is beyond the session head ${session.headSeq}`, { sessionId, atSeq });
    }
    const live = session
      .activeReplicas()
      .filter((r) => r.state === 'live' && this.#manager.nodes.get(r.nodeId))
      .sort((a, b) => (b.replicaId === preferReplicaId ? 1 : 0) - (a.replicaId === preferReplicaId ? 1 : 0));
    const pick = live[0];
    const node = pick && this.#manager.nodes.get(pick.nodeId);
    if (!pick || !node) throw new UnavailableError('no live replica to copy from', { sessionId });
    if (this.#pending.size >= MAX_PENDING) throw new RateLimitedError('too many copies in flight', {});
    const requestId = `cp-${randomBytes(8).toString('hex')}`;
    return new Promise<CopyResult>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new UnavailableError('the replica did not answer the copy in time', { replicaId: pick.replicaId }));
      }, this.#timeoutMs);
      timer.unref();
      this.#pending.set(requestId, { nodeId: pick.nodeId, replicaId: pick.replicaId, resolve, reject, timer });
      node.notify({ type: 'replica.copyRequest', replicaId: pick.replicaId, requestId, atSeq });
    });
  }

  /** A node's answer; only the node and replica that were asked may answer. */
  answer(nodeId: string, replicaId: string, requestId: string, text: string | null, seq: number): void {
    const p = this.#pending.get(requestId);
    if (!p || p.nodeId !== nodeId || p.replicaId !== replicaId) {
      throw new NotFoundError(`no copy request ${requestId} for replica ${replicaId}`, { requestId, replicaId });
    }
    this.#pending.delete(requestId);
    clearTimeout(p.timer);
    p.resolve({ text: text === null ? null : text.slice(0, LIMITS.maxPasteChars), seq });
  }

  close(): void {
    for (const p of this.#pending.values()) {
      clearTimeout(p.timer);
      p.reject(new UnavailableError('server closing', {}));
    }
    this.#pending.clear();
  }
}
