// Sends inputs to the sequencer and keeps each one until its ack arrives, so
// nothing typed is lost across a reconnect: after re-joining, everything
// above the server's lastClientSeq is sent again (the server dedupes by
// (clientId, clientSeq)). Hover moves and wheel bursts are coalesced to
// ~30/s; keys, paste and button events are never dropped or merged.
// With several servers (cluster mode) an input without an ack after
// `resendAfterMs` makes the caller's `reroute` pick another server, and every
// unacknowledged input is sent again through it, in order, under the same
// clientSeq: idempotent appends make a second copy harmless, and only an ack
// (from whichever server) settles an input. The route moves only while no
// server answers at all (an answer, a refusal included, shows the route is
// alive, only slow), and each move without an ack since doubles the wait (up to
// INPUT_RESEND_MAX_MS), so a slow-but-alive cluster is not flooded with copies.
// An out-of-order refusal resends from the server's `expected` through the
// same route at once (issue 13: the route flapped and inputs went unacknowledged).
// Every wait (no-ack, out-of-order, refused) is ResendPolicy's (resend-policy.ts);
// the no-ack one follows the measured ack round trips.
import type { InputAck } from '../protocol/signalling.js';
import type { InputEvent, PointerInput, WheelInput } from '../protocol/input.js';
import { expectsOwnFrame } from '../protocol/freshness.js';
import { isRetryableError, ViewerRequestError } from './request-error.js';
import { ResendPolicy } from './resend-policy.js';
import { RouteLiveness } from './route-liveness.js';
import { INPUT_RESEND_AFTER_MS, INPUT_RESEND_MAX_MS } from '../protocol/server-routing.js';
import { TypedEmitter } from './typed-emitter.js';
import { debugLog } from './debug-log.js';

const log = debugLog('inputs');

/** Unwanted inputs remembered as holes at most (see InputSender.holes). */
const MAX_HOLES = 256;

export interface InputRequest {
  type: 'input';
  sessionId: string;
  clientSeq: number;
  event: InputEvent;
}

export interface InputSenderDeps {
  sessionId: string;
  /** Sends one input request; resolves with the ack or rejects (ViewerRequestError). */
  transmit: (req: InputRequest) => Promise<InputAck>;
  /** Persisted clientSeq counter (see client-identity.ts). */
  loadSeq: () => number;
  saveSeq: (seq: number) => void;
  /**
   * Persisted unacknowledged inputs: what was typed but not yet durable survives
   * a reload or a crashed tab and is resent after the join (see resync).
   */
  loadPending?: () => PersistedInput[];
  savePending?: (items: PersistedInput[]) => void;
  now: () => number;
  schedule?: (fn: () => void, ms: number) => () => void;
  /**
   * Cluster mode: moves the route to another server when an input went
   * unacknowledged for `resendAfterMs`; true when it did (the unacknowledged
   * inputs are then resent), false when there is no other server.
   */
  reroute?: () => boolean;
  /** A fixed no-ack wait; default adaptive from the ack round trips (resend-policy.ts). */
  resendAfterMs?: number;
  /** Cap of the doubling no-ack wait; default INPUT_RESEND_MAX_MS. */
  resendMaxMs?: number;
  /**
   * Cluster mode: pings the route's server (resolves on its answer). With it a
   * cut-off server is left once a ping goes unanswered (route-liveness.ts), and
   * the no-ack wait keeps INPUT_RESEND_AFTER_MS as its floor.
   */
  pingRoute?: () => Promise<unknown>;
}

export interface InputStats {
  sent: number;
  acked: number;
  pending: number;
  rejected: number;
  /** Highest server seq acknowledged for this viewer's inputs (0 before any). */
  highestAckedSeq: number;
}

export interface InputAckedEvent {
  clientSeq: number;
  event: InputEvent;
  seq: number;
  duplicate: boolean;
  /** First transmission time, for input-to-photon latency. */
  firstSentAt: number;
  ackedAt: number;
}

export interface InputSenderEvents {
  stats: InputStats;
  acked: InputAckedEvent;
  rejected: { event: InputEvent; error: unknown };
}

/** An unacknowledged input as kept across reloads. */
export interface PersistedInput {
  clientSeq: number;
  event: InputEvent;
  everSent: boolean;
}

/** Beyond this many unacknowledged inputs only the oldest are persisted (storage is small). */
const MAX_PERSISTED = 2000;

interface Queued {
  clientSeq: number;
  event: InputEvent;
  /** Transmitted at least once (its clientSeq may already be in the log). */
  everSent: boolean;
  firstSentAt: number;
  inFlight: boolean;
  attempts: number;
  /** Cancels the no-ack timer of the current transmission (cluster mode). */
  cancelAckWait: (() => void) | null;
  /** When the current no-ack wait began. */
  waitFrom: number;
  /** Transmission number of the current attempt (sender-wide, increasing). */
  sendNo: number;
}

/** ~30 coalesced hover moves / wheel batches per second. */
export const COALESCE_INTERVAL_MS = 33;

/**
 * Once the queue drains, storage is emptied this much later, unless an input is
 * written first (that write replaces it). Typing 10 keys/s drains the queue after
 * nearly every input: storage was written twice per input, now once per input and
 * once per pause.
 */
export const DRAINED_PERSIST_MS = 1000;

function defaultSchedule(fn: () => void, ms: number): () => void {
  const h = setTimeout(fn, ms);
  return () => clearTimeout(h);
}

export class InputSender extends TypedEmitter<InputSenderEvents> {
  private readonly queue: Queued[] = [];
  private counter: number;
  private online = false;
  private disposed = false;
  private readonly schedule: (fn: () => void, ms: number) => () => void;
  private pendingMove: PointerInput | null = null;
  private pendingWheel: WheelInput | null = null;
  private lastCoalescedAt = Number.NEGATIVE_INFINITY;
  private cancelCoalesce: (() => void) | null = null;
  private cancelRetry: (() => void) | null = null;
  private lastEventType: InputEvent['type'] | null = null;
  private readonly counts = { sent: 0, acked: 0, rejected: 0, highestAckedSeq: 0 };
  /** Every resend wait: no-ack (adaptive), out-of-order, refused. */
  private readonly policy: ResendPolicy;
  /** Pings the route's server while inputs wait (cluster mode with pingRoute), null otherwise. */
  private readonly liveness: RouteLiveness | null;
  /** When a server last answered an input (ack or refusal). */
  private lastAnswerAt = Number.NEGATIVE_INFINITY;
  private conflictFrom: number | null = null;
  /** Transmissions made when the latest refusal arrived: later ones already go in order. */
  private conflictMark = 0;
  private sendCount = 0;
  private cancelConflictResend: (() => void) | null = null;
  private cancelDrainedPersist: (() => void) | null = null;
  /**
   * Inputs a server refused as unwanted (a key release the app does not read), by clientSeq, until an ack of
   * a later one shows the log is past them. Their numbers are holes only the refusing server remembers
   * (server/sequencer.ts); another server of the cluster would call the next input out of order for good. So
   * they go again, first, to the route's server when the route moves or a server says "expected" one of them:
   * refused again, they teach it the hole.
   */
  private readonly holes = new Map<number, InputEvent>();

  constructor(private readonly deps: InputSenderDeps) {
    super();
    this.counter = deps.loadSeq();
    this.schedule = deps.schedule ?? defaultSchedule;
    this.policy = new ResendPolicy({
      ...(deps.resendAfterMs === undefined ? {} : { resendAfterMs: deps.resendAfterMs }),
      ...(deps.resendMaxMs === undefined ? {} : { resendMaxMs: deps.resendMaxMs }),
      ...(deps.pingRoute ? { resendMinMs: INPUT_RESEND_AFTER_MS } : {}),
    });
    const ping = deps.pingRoute;
    this.liveness =
      ping && deps.reroute
        ? new RouteLiveness({
            ping,
            now: deps.now,
            schedule: this.schedule,
            policy: this.policy,
            oldestInFlightSince: () => this.oldestInFlightSince(),
            lastAnswerAt: () => this.lastAnswerAt,
            onDead: (waitedMs) => {
              log('the route server answered no ping for', waitedMs, 'ms: the input route moves', {
                pingP99: this.policy.pingPercentile(0.99),
                rttP50: this.policy.rttPercentile(0.5),
              });
              this.moveRoute();
            },
          })
        : null;
    for (const p of deps.loadPending?.() ?? []) {
      if (!Number.isSafeInteger(p.clientSeq) || typeof p.event !== 'object' || p.event === null) continue;
      this.queue.push({
        clientSeq: p.clientSeq,
        event: p.event,
        everSent: p.everSent === true,
        firstSentAt: 0,
        inFlight: false,
        attempts: 0,
        cancelAckWait: null,
        waitFrom: 0,
        sendNo: 0,
      });
    }
    this.queue.sort((a, b) => a.clientSeq - b.clientSeq);
    // The counter is not written for every input (see persist): the pending list carries it.
    this.counter = Math.max(this.counter, this.queue.at(-1)?.clientSeq ?? 0);
  }

  /**
   * Writes the unacknowledged inputs. The counter is written too only when the
   * list does not already carry it (empty, truncated, or its newest input was
   * acknowledged first): a reload takes the larger of the two, so typing online
   * costs one storage write per input, not two.
   */
  private persist(): void {
    this.cancelDrainedPersist?.();
    this.cancelDrainedPersist = null;
    const save = this.deps.savePending;
    if (!save) return;
    const items = this.queue.slice(0, MAX_PERSISTED);
    save(items.map((q) => ({ clientSeq: q.clientSeq, event: q.event, everSent: q.everSent })));
    if ((items.at(-1)?.clientSeq ?? Number.NEGATIVE_INFINITY) < this.counter) this.deps.saveSeq(this.counter);
  }

  stats(): InputStats {
    return {
      sent: this.counts.sent,
      acked: this.counts.acked,
      rejected: this.counts.rejected,
      highestAckedSeq: this.counts.highestAckedSeq,
      pending: this.queue.length + (this.pendingMove ? 1 : 0) + (this.pendingWheel ? 1 : 0),
    };
  }

  /**
   * Since when the oldest input sent and not yet acknowledged that expects a
   * frame of its own has been waiting (null: none). A shown stream that went
   * silent with such an input outstanding is worth a probe (stream-manager.ts).
   */
  unackedSince(): number | null {
    let since: number | null = null;
    for (const q of this.queue) {
      if (!q.everSent || !expectsOwnFrame(q.event)) continue;
      since = since === null ? q.firstSentAt : Math.min(since, q.firstSentAt);
    }
    return since;
  }

  /** The no-ack wait an input sent now would get (ms). */
  get ackWaitMs(): number {
    return this.policy.ackWaitMs();
  }

  send(event: InputEvent): void {
    if (this.disposed) return;
    if (event.type === 'pointer' && event.action === 'move' && event.buttons === 0) {
      if (this.pendingWheel) this.flushCoalesced();
      this.pendingMove = event; // the newest hover position replaces older ones
      this.armCoalesce();
      return;
    }
    if (event.type === 'wheel') {
      if (this.pendingMove) this.flushCoalesced();
      const w = this.pendingWheel;
      if (w && sameMods(w, event)) {
        // Sum the deltas: scrolling distance is kept, only the event count drops.
        this.pendingWheel = { ...event, dx: clampDelta(w.dx + event.dx), dy: clampDelta(w.dy + event.dy) };
      } else {
        if (w) this.flushCoalesced();
        this.pendingWheel = event;
      }
      this.armCoalesce();
      return;
    }
    // A release-all right after another changes nothing on the replicas.
    if (event.type === 'release-all' && this.lastEventType === 'release-all' && !this.pendingMove && !this.pendingWheel)
      return;
    this.flushCoalesced(); // keep order: the hover before the click
    this.enqueue(event);
  }

  /** The connection dropped: in-flight inputs will be resent after the re-join. */
  setOffline(): void {
    this.online = false;
    this.liveness?.reset();
    for (const q of this.queue) this.settleAttempt(q);
  }

  /**
   * The route moved (its server went away, or reroute chose another): every
   * unacknowledged input is sent again, in order, through the new route.
   */
  resendInFlight(): void {
    if (!this.online || this.disposed) return;
    this.liveness?.reset();
    for (const q of this.queue) this.settleAttempt(q);
    this.sendHoles(Number.NEGATIVE_INFINITY);
    this.pump();
  }

  /** The remembered unwanted inputs from `from` on, to the current route (their refusal is the point). */
  private sendHoles(from: number): void {
    for (const [clientSeq, event] of this.holes) {
      if (clientSeq < from) continue;
      const req: InputRequest = { type: 'input', sessionId: this.deps.sessionId, clientSeq, event };
      this.deps.transmit(req).then(
        () => this.holes.delete(clientSeq),
        () => undefined,
      );
    }
  }

  /** When the oldest transmission still in flight went out (null: none). */
  private oldestInFlightSince(): number | null {
    let since: number | null = null;
    for (const q of this.queue) if (q.inFlight) since = since === null ? q.waitFrom : Math.min(since, q.waitFrom);
    return since;
  }

  /** Another server takes the route (if there is one) and everything unacknowledged is resent through it. */
  private moveRoute(): void {
    if (this.deps.reroute?.()) {
      this.policy.noteMove();
      this.resendInFlight();
    }
  }

  /** The current transmission of `q` no longer counts: its late answer or timer is ignored. */
  private settleAttempt(q: Queued): void {
    q.inFlight = false;
    q.cancelAckWait?.();
    q.cancelAckWait = null;
  }

  /**
   * After (re-)joining: drop what the log already holds, renumber inputs never
   * transmitted above the server's count, and resend the rest in order.
   */
  resync(lastClientSeq: number): void {
    for (let i = this.queue.length - 1; i >= 0; i--) {
      const q = this.queue[i];
      if (q && q.everSent && q.clientSeq <= lastClientSeq) {
        this.queue.splice(i, 1);
        this.counts.acked++; // logged by the server; its seq is unknown here
      }
    }
    // The server logs each client's inputs without holes, so nothing above
    // lastClientSeq is in the log: number what is left contiguously from there
    // (a no-op unless inputs were lost with a reload, or never sent).
    this.queue.sort((a, b) => a.clientSeq - b.clientSeq);
    // Renumbered from the log: the holes above it are no longer passed over by anyone, nor needed.
    this.holes.clear();
    let next = lastClientSeq;
    for (const q of this.queue) {
      this.settleAttempt(q);
      q.clientSeq = ++next;
    }
    this.counter = next;
    this.deps.saveSeq(this.counter);
    this.persist();
    this.online = true;
    this.pump();
    this.emitStats();
  }

  dispose(): void {
    this.disposed = true;
    this.online = false;
    this.cancelCoalesce?.();
    this.cancelRetry?.();
    this.cancelConflictResend?.();
    this.liveness?.reset();
    this.cancelDrainedPersist?.();
    for (const q of this.queue) this.settleAttempt(q);
    this.removeAllListeners();
  }

  private armCoalesce(): void {
    if (this.cancelCoalesce) return;
    const wait = Math.max(0, this.lastCoalescedAt + COALESCE_INTERVAL_MS - this.deps.now());
    if (wait === 0) {
      this.flushCoalesced();
      return;
    }
    this.cancelCoalesce = this.schedule(() => {
      this.cancelCoalesce = null;
      this.flushCoalesced();
    }, wait);
    this.emitStats();
  }

  private flushCoalesced(): void {
    this.cancelCoalesce?.();
    this.cancelCoalesce = null;
    const move = this.pendingMove;
    const wheel = this.pendingWheel;
    this.pendingMove = null;
    this.pendingWheel = null;
    if (move) this.enqueue(move);
    if (wheel) this.enqueue(wheel);
    if (move || wheel) this.lastCoalescedAt = this.deps.now();
  }

  private enqueue(event: InputEvent): void {
    this.counter++;
    // With pending storage the persist() below (or transmit's) records the counter in the same write.
    if (!this.deps.savePending) this.deps.saveSeq(this.counter);
    this.lastEventType = event.type;
    this.queue.push({
      clientSeq: this.counter,
      event,
      everSent: false,
      firstSentAt: 0,
      inFlight: false,
      attempts: 0,
      cancelAckWait: null,
      waitFrom: 0,
      sendNo: 0,
    });
    // Online, transmit() persists it (as sent) before it leaves: one storage write, not two.
    if (!this.online || this.disposed) this.persist();
    this.pump();
    this.emitStats();
  }

  private pump(): void {
    if (!this.online || this.disposed) return;
    for (const q of this.queue) if (!q.inFlight) this.transmit(q);
    this.liveness?.poke();
  }

  private transmit(q: Queued): void {
    q.inFlight = true;
    q.attempts++;
    if (!q.everSent) {
      q.everSent = true;
      q.firstSentAt = this.deps.now();
      // Recorded before it leaves: after a reload, a sent input at or below the
      // server's lastClientSeq is known to be logged and must not be renumbered.
      this.persist();
    }
    this.counts.sent++;
    q.sendNo = ++this.sendCount;
    const attempt = q.attempts;
    const sentAt = this.deps.now();
    q.waitFrom = sentAt;
    const req: InputRequest = { type: 'input', sessionId: this.deps.sessionId, clientSeq: q.clientSeq, event: q.event };
    if (this.deps.reroute) this.armAckWait(q, attempt);
    this.deps.transmit(req).then(
      (ack) => this.onAck(q, ack, this.deps.now() - sentAt),
      (err: unknown) => {
        // A failure of an attempt already superseded (resent elsewhere) changes nothing.
        if (q.attempts === attempt && q.inFlight) this.onFail(q, err);
      },
    );
  }

  private armAckWait(q: Queued, attempt: number): void {
    q.waitFrom = this.deps.now();
    q.cancelAckWait = this.schedule(() => this.onAckTimeout(q, attempt), this.policy.ackWaitMs());
  }

  /**
   * No ack in time. If a server answered meanwhile the route is alive, only
   * slow: wait until it has been quiet for the whole wait since its latest
   * answer (not a whole wait from now: that made the move after a partition
   * take up to twice the wait). Else another server takes the route and
   * everything unacknowledged is resent through it.
   */
  private onAckTimeout(q: Queued, attempt: number): void {
    q.cancelAckWait = null;
    if (this.disposed || !this.online || q.attempts !== attempt || !q.inFlight || !this.queue.includes(q)) return;
    const quietSince = Math.max(q.waitFrom, this.lastAnswerAt);
    // Its server answers pings: alive, only slow to commit. Left only if no ack comes for the cap.
    const alive = this.liveness !== null && this.liveness.lastPingAnswerAt >= quietSince;
    const wait = alive ? Math.max(this.policy.ackWaitMs(), INPUT_RESEND_MAX_MS) : this.policy.ackWaitMs();
    const left = quietSince + wait - this.deps.now();
    if (left > 0) {
      q.cancelAckWait = this.schedule(() => this.onAckTimeout(q, attempt), left);
      return;
    }
    log('no answer for', wait, 'ms: the input route moves', {
      samples: this.policy.samples,
      rttP50: this.policy.rttPercentile(0.5),
      rttP99: this.policy.rttPercentile(0.99),
    });
    this.moveRoute();
  }

  private onAck(q: Queued, ack: InputAck, rttMs: number): void {
    const i = this.queue.indexOf(q);
    // Already settled (acked through another server, or dropped by a resync).
    // Any server's ack counts, also one for an attempt since resent elsewhere: it is logged.
    this.lastAnswerAt = this.deps.now();
    this.policy.noteAck(rttMs);
    for (const seq of this.holes.keys()) if (seq < q.clientSeq) this.holes.delete(seq);
    if (i < 0) return;
    this.settleAttempt(q);
    this.queue.splice(i, 1);
    // An acknowledged input left in storage is harmless (a reload's resync drops what the log holds),
    // so storage is emptied DRAINED_PERSIST_MS after the queue empties, not on every ack: a synchronous
    // write per ack was a visible part of the tab's main-thread time while typing.
    if (this.queue.length === 0) this.persistWhenStillDrained();
    this.liveness?.poke();
    this.counts.acked++;
    this.counts.highestAckedSeq = Math.max(this.counts.highestAckedSeq, ack.seq);
    this.emit('acked', {
      clientSeq: q.clientSeq,
      event: q.event,
      seq: ack.seq,
      duplicate: ack.duplicate,
      firstSentAt: q.firstSentAt,
      ackedAt: this.deps.now(),
    });
    this.emitStats();
  }

  private persistWhenStillDrained(): void {
    this.cancelDrainedPersist ??= this.schedule(() => {
      this.cancelDrainedPersist = null;
      if (this.queue.length === 0 && !this.disposed) this.persist();
    }, DRAINED_PERSIST_MS);
  }

  private onFail(q: Queued, err: unknown): void {
    const i = this.queue.indexOf(q);
    if (i < 0 || this.disposed) return;
    if (!isRetryableError(err)) {
      // The server refused this input for good (bad-request, too-large…): resending can't help.
      this.settleAttempt(q);
      this.queue.splice(i, 1);
      if (err instanceof ViewerRequestError && err.code === 'unwanted-input') this.rememberHole(q);
      this.persist();
      this.counts.rejected++;
      this.emit('rejected', { event: q.event, error: err });
      this.emitStats();
      return;
    }
    this.settleAttempt(q);
    if (err instanceof ViewerRequestError && err.code === 'conflict') {
      this.onOutOfOrder(err);
      return;
    }
    if (!this.online || this.cancelRetry) return; // the re-join resends it, or a retry is armed
    const delay = this.policy.refusedRetryMs(q.attempts);
    this.cancelRetry = this.schedule(() => {
      this.cancelRetry = null;
      this.pump();
    }, delay);
  }

  /**
   * The route's server answered "skips ahead; expected N": the server is alive
   * and wants everything from N again, in order, through it (not elsewhere,
   * not after the generic backoff). Refusals of one batch are coalesced into
   * one resend; repeated ones without an ack in between back off, so a server
   * that keeps refusing (or lies about `expected`) cannot make a hot loop.
   * `expected` only narrows what is resent: nothing is dropped on its word.
   */
  private onOutOfOrder(err: ViewerRequestError): void {
    this.lastAnswerAt = this.deps.now();
    const raw = (err.details as { expected?: unknown } | undefined)?.expected;
    const from = typeof raw === 'number' && Number.isSafeInteger(raw) ? raw : Number.NEGATIVE_INFINITY;
    this.conflictFrom = Math.min(this.conflictFrom ?? Number.POSITIVE_INFINITY, from);
    this.conflictMark = this.sendCount;
    if (!this.online || this.cancelConflictResend) return;
    const delay = this.policy.nextConflictDelayMs();
    this.cancelConflictResend = this.schedule(() => {
      this.cancelConflictResend = null;
      const start = this.conflictFrom ?? Number.NEGATIVE_INFINITY;
      this.conflictFrom = null;
      if (!this.online || this.disposed) return;
      // What was sent after the refusal (a retry, a reroute) is already in order: not sent twice.
      for (const x of this.queue) if (x.clientSeq >= start && x.sendNo <= this.conflictMark) this.settleAttempt(x);
      this.sendHoles(start);
      this.pump();
    }, delay);
  }

  private rememberHole(q: Queued): void {
    this.holes.set(q.clientSeq, q.event);
    // Bounded: the oldest go first (an ack of a later input normally clears them long before).
    for (const seq of this.holes.keys()) {
      if (this.holes.size <= MAX_HOLES) break;
      this.holes.delete(seq);
    }
  }

  private emitStats(): void {
    this.emit('stats', this.stats());
  }
}

function sameMods(a: WheelInput, b: WheelInput): boolean {
  return (
    a.mods.shift === b.mods.shift &&
    a.mods.ctrl === b.mods.ctrl &&
    a.mods.alt === b.mods.alt &&
    a.mods.meta === b.mods.meta
  );
}

function clampDelta(v: number): number {
  return Math.max(-100_000, Math.min(100_000, v));
}
