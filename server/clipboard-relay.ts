// Copy out of the app: a viewer asks for the app's clipboard text (its
// selection); the server forwards the question to the node of one live
// replica, which answers once that replica applied the viewer's inputs. Every
// replica holds the same state at the same seq, so any live one will do; the
// one the viewer watches is preferred. One that does not answer within
// hedgeMs (slow, or its node lost the question) does not fail the copy: the
// next live replica is asked too, and the first answer is the copy. Either
// way the text is one replica's word, as the picture is (SECURITY.md).
import { randomBytes } from 'node:crypto';
import type { CopyResult } from '../protocol/signalling.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import { BadRequestError, NotFoundError, RateLimitedError, UnavailableError } from './errors.js';
import type { SessionManager } from './session-manager.js';

const log = getLogger('clipboard-relay');

/** One viewer's copy: answered by the first replica asked that answers. */
interface Copy {
  resolve: (r: CopyResult) => void;
  reject: (e: Error) => void;
  /** Cancels the deadline and the next ask. */
  cancel: Array<() => void>;
  requestIds: string[];
}

/** One replica asked for one copy. */
interface Asked {
  nodeId: string;
  replicaId: string;
  copy: Copy;
}

export interface ClipboardRelayOptions {
  /** A copy no replica answered within this fails (UnavailableError). */
  timeoutMs?: number;
  /** Unanswered this long, the copy is asked of the next live replica too (one more at most). */
  hedgeMs?: number;
  /** Timers (a fake clock in the unit tests); returns a cancel function. */
  schedule?: (fn: () => void, ms: number) => () => void;
}

/** Replicas asked for copies in flight across all viewers: a bound, not a fairness scheme. */
const MAX_PENDING = 256;

function realSchedule(fn: () => void, ms: number): () => void {
  const t = setTimeout(fn, ms);
  t.unref();
  return () => clearTimeout(t);
}

export class ClipboardRelay {
  readonly #manager: SessionManager;
  readonly #timeoutMs: number;
  readonly #hedgeMs: number;
  readonly #schedule: (fn: () => void, ms: number) => () => void;
  readonly #pending = new Map<string, Asked>();

  constructor(manager: SessionManager, opts: ClipboardRelayOptions = {}) {
    this.#manager = manager;
    this.#timeoutMs = opts.timeoutMs ?? 5000;
    this.#hedgeMs = opts.hedgeMs ?? 1500;
    this.#schedule = opts.schedule ?? realSchedule;
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
    const [first, second] = live;
    if (!first) throw new UnavailableError('no live replica to copy from', { sessionId });
    if (this.#pending.size >= MAX_PENDING) throw new RateLimitedError('too many copies in flight', {});
    return new Promise<CopyResult>((resolve, reject) => {
      const copy: Copy = { resolve, reject, cancel: [], requestIds: [] };
      this.#ask(copy, first.nodeId, first.replicaId, atSeq);
      copy.cancel.push(
        this.#schedule(() => {
          const asked = copy.requestIds.map((id) => this.#pending.get(id)?.replicaId);
          this.#settle(copy);
          log.warn({ sessionId, atSeq, asked }, 'no replica answered the copy in time');
          reject(new UnavailableError('no replica answered the copy in time', { sessionId, atSeq }));
        }, this.#timeoutMs),
      );
      if (second) {
        copy.cancel.push(
          this.#schedule(() => {
            // Live at the server a moment ago; asked only if it still is, and only within the bound.
            const still = this.#manager.nodes.get(second.nodeId);
            if (!still || this.#pending.size >= MAX_PENDING) return;
            log.info(
              { sessionId, atSeq, slow: first.replicaId, next: second.replicaId },
              'copy unanswered; asking the next replica',
            );
            this.#ask(copy, second.nodeId, second.replicaId, atSeq);
          }, this.#hedgeMs),
        );
      }
    });
  }

  #ask(copy: Copy, nodeId: string, replicaId: string, atSeq: number): void {
    const node = this.#manager.nodes.get(nodeId);
    if (!node) return;
    const requestId = `cp-${randomBytes(8).toString('hex')}`;
    copy.requestIds.push(requestId);
    this.#pending.set(requestId, { nodeId, replicaId, copy });
    node.notify({ type: 'replica.copyRequest', replicaId, requestId, atSeq });
  }

  /** The copy is done (answered, timed out, or the server closes): no replica is waited for any more. */
  #settle(copy: Copy): void {
    for (const cancel of copy.cancel.splice(0)) cancel();
    for (const id of copy.requestIds) this.#pending.delete(id);
  }

  /** A node's answer; only the node and replica that were asked may answer (the first answer wins). */
  answer(nodeId: string, replicaId: string, requestId: string, text: string | null, seq: number): void {
    const p = this.#pending.get(requestId);
    if (!p || p.nodeId !== nodeId || p.replicaId !== replicaId) {
      throw new NotFoundError(`no copy request ${requestId} for replica ${replicaId}`, { requestId, replicaId });
    }
    this.#settle(p.copy);
    p.copy.resolve({ text: text === null ? null : text.slice(0, LIMITS.maxPasteChars), seq });
  }

  close(): void {
    const copies = new Set([...this.#pending.values()].map((p) => p.copy));
    for (const copy of copies) {
      this.#settle(copy);
      copy.reject(new UnavailableError('server closing', {}));
    }
  }
}
