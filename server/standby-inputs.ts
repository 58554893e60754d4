// Inputs bound for replicas nobody watches (warm standbys) are held briefly and
// go out as one notification: a standby's cost is per message (socket read and
// parse, an apply loop, a wakeup), and nobody waits for its picture. Whether a
// replica is watched is the server's own knowledge (resumed consumers at its
// SFU), nothing a node says. A replica that becomes watched gets what is held
// at once, before it is told to render (see flush), so a warm failover shows
// the current state; inputs to watched replicas are never held.
import type { SequencedInput } from '../protocol/input.js';

export interface StandbyInputsOptions {
  /** The longest an input waits for its batch. */
  holdMs: number;
  /** A replica holding this many inputs gets them at once (bounds memory, the catch-up on resume, the message). */
  maxHeld: number;
  /** Sends inputs to one replica on its node (in seq order, as held). */
  send(nodeId: string, replicaId: string, inputs: SequencedInput[]): void;
  setTimer?: (fn: () => void, ms: number) => unknown;
  clearTimer?: (handle: unknown) => void;
}

export class StandbyInputs {
  readonly #opts: StandbyInputsOptions;
  readonly #setTimer: (fn: () => void, ms: number) => unknown;
  readonly #clearTimer: (handle: unknown) => void;
  /** replicaId → its node and the inputs held for it, oldest first. */
  readonly #held = new Map<string, { nodeId: string; inputs: SequencedInput[] }>();
  #timer: unknown;

  constructor(opts: StandbyInputsOptions) {
    this.#opts = opts;
    this.#setTimer =
      opts.setTimer ??
      ((fn, ms) => {
        const t = setTimeout(fn, ms);
        t.unref();
        return t;
      });
    this.#clearTimer = opts.clearTimer ?? ((h) => clearTimeout(h as NodeJS.Timeout));
  }

  /** Inputs for one replica: sent now when it is watched (after anything held for it), held otherwise. */
  send(nodeId: string, replicaId: string, inputs: readonly SequencedInput[], watched: boolean): void {
    if (inputs.length === 0) return;
    let held = this.#held.get(replicaId);
    // A replica that moved to another node (adoption) gets what was held on the old connection first;
    // a batch never grows past maxHeld (the node refuses larger notifications).
    if (watched || (held && (held.nodeId !== nodeId || held.inputs.length + inputs.length > this.#opts.maxHeld))) {
      this.flush(replicaId);
      held = undefined;
    }
    if (watched || this.#opts.holdMs <= 0) {
      this.#opts.send(nodeId, replicaId, [...inputs]);
      return;
    }
    if (!held) this.#held.set(replicaId, (held = { nodeId, inputs: [] }));
    held.inputs.push(...inputs);
    if (held.inputs.length >= this.#opts.maxHeld) this.flush(replicaId);
    else this.#timer ??= this.#setTimer(() => this.#flushAll(), this.#opts.holdMs);
  }

  /** Sends what is held for this replica now (it became watched, or its batch is full). */
  flush(replicaId: string): void {
    const held = this.#held.get(replicaId);
    if (!held) return;
    this.#held.delete(replicaId);
    this.#opts.send(held.nodeId, replicaId, held.inputs);
  }

  /**
   * The seq of the oldest input held for this replica, undefined when none is:
   * everything below it has been sent to the replica's node.
   */
  firstHeldSeq(replicaId: string): number | undefined {
    return this.#held.get(replicaId)?.inputs[0]?.seq;
  }

  /** Inputs held for this replica, for tests and the health view. */
  heldCount(replicaId: string): number {
    return this.#held.get(replicaId)?.inputs.length ?? 0;
  }

  #flushAll(): void {
    this.#timer = undefined;
    for (const replicaId of [...this.#held.keys()]) this.flush(replicaId);
  }

  /** Sends everything held and stops the timer (the manager is closing). */
  close(): void {
    if (this.#timer !== undefined) this.#clearTimer(this.#timer);
    this.#flushAll();
  }
}
