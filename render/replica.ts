// A replica: one app state machine fed the session's ordered input log, drawn
// into a canvas and streamed as video. Inputs apply strictly in seq order;
// gaps are buffered and the missing range is fetched; duplicates are ignored.
// A frame is rendered right after inputs apply (latency comes from scheduling,
// not from a fixed tick), capped at maxFps, plus a cheap keepalive re-send of
// the last frame when idle. While nobody watches its stream (a warm standby:
// no resumed consumer at the SFU) it keeps applying inputs and reporting
// hashes but renders and encodes nothing; when a viewer resumes it, it renders
// the current state at once.
import type { SequencedInput } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import type { ReplicaAssignment } from '../protocol/signalling.js';
import { TypedEmitter } from '../protocol/typed-emitter.js';
import { stateHashOf } from './app-hash.js';
import { AppFailedError, SnapshotError } from './errors.js';
import type { App } from './app-types.js';
import { FrameRenderer, type RenderedFrame, type RgbaImage } from './frame-renderer.js';
import type { ProducerSignalling } from './video-producer.js';
import { VideoProducer } from './video-producer.js';

const log = getLogger('replica');

/** After a resume, the first frame is sent again this much later (see setWatched). */
const RESUME_REPUSH_MS = 30;

export interface ReplicaOptions<S> {
  assignment: ReplicaAssignment;
  app: App<S>;
  maxFps: number;
  keepaliveMs: number;
  maxBitrate: number;
  signalling: ProducerSignalling;
  /** Log entries in [fromSeq, toSeq]; `compactedThrough`: nothing at or below it is in the log any more. */
  fetchInputs(fromSeq: number, toSeq: number): Promise<{ inputs: SequencedInput[]; compactedThrough: number }>;
  /** The server's stored snapshot (state transfer), or null when there is none. */
  fetchSnapshot(): Promise<ReplicaSnapshot | null>;
  /** Test-only fault injection: after this many applied inputs, corrupt the state (0 = never). */
  corruptAfter?: number;
  /** Skip the video path (unit tests and benchmarks of the state machine alone). */
  withoutVideo?: boolean;
}

export interface ReplicaSnapshot {
  seq: number;
  stateHash: string;
  data: Buffer;
}

export interface ReplicaStatus {
  appliedSeq: number;
  stateHash: string;
  framesSent: number;
  /** No viewer watches this stream, so no frames are sent (a flat framesSent is not a stall). */
  videoIdle: boolean;
}

export interface ReplicaEvents {
  /** The replica reached the head it was told about (worth an immediate status report). */
  caughtup: [ReplicaStatus];
  failed: [Error];
  frame: [RenderedFrame];
}

export class Replica<S> extends TypedEmitter<ReplicaEvents> {
  readonly id: string;
  readonly sessionId: string;
  readonly #opts: ReplicaOptions<S>;
  readonly #renderer: FrameRenderer<S>;
  readonly #producer: VideoProducer | undefined;
  #state: S;
  #applied = 0;
  #knownHead: number;
  readonly #pending = new Map<number, SequencedInput>();
  #fetching = false;
  #frameTimer: NodeJS.Timeout | undefined;
  #keepalive: NodeJS.Timeout | undefined;
  #lastFrame: RenderedFrame | undefined;
  /** #stateVersion of the state #lastFrame shows. */
  #frameVersion = -1;
  #lastFrameAt = 0;
  /**
   * Some viewer has a resumed consumer of this stream (the server says so). A
   * replica without video (tests, benchmarks) always renders.
   */
  #watched: boolean;
  #repushTimer: NodeJS.Timeout | undefined;
  #lastPushAt = 0;
  #caughtUpReported = false;
  #appliedCount = 0;
  /** Bumped on every state change; the status hash is recomputed only when it moves. */
  #stateVersion = 0;
  #hashCache: { version: number; hash: string } | undefined;
  /** Snapshot checkpoints the server asked for, by seq: captured right after that seq applies. */
  readonly #checkpoints = new Map<number, { resolve: (s: ReplicaSnapshot) => void; reject: (e: Error) => void }>();
  #closed = false;

  private constructor(opts: ReplicaOptions<S>, producer: VideoProducer | undefined) {
    super();
    this.#opts = opts;
    this.id = opts.assignment.replicaId;
    this.sessionId = opts.assignment.sessionId;
    this.#knownHead = opts.assignment.headSeq;
    this.#renderer = new FrameRenderer(opts.app);
    this.#state = opts.app.init({ width: opts.assignment.width, height: opts.assignment.height });
    this.#producer = producer;
    this.#watched = producer === undefined;
    producer?.on('failed', (err) => this.emit('failed', err));
  }

  static async create<S>(opts: ReplicaOptions<S>): Promise<Replica<S>> {
    const producer = opts.withoutVideo
      ? undefined
      : await VideoProducer.create({
          replicaId: opts.assignment.replicaId,
          maxBitrate: opts.maxBitrate,
          maxFps: opts.maxFps,
          signalling: opts.signalling,
        });
    let replica: Replica<S>;
    try {
      replica = new Replica(opts, producer);
    } catch (err) {
      // The app's init threw (or its sandbox did not start).
      producer?.close();
      throw err;
    }
    try {
      // State transfer: start from the stored snapshot, then replay the tail.
      if (opts.assignment.snapshot) await replica.#restoreFromSnapshot();
    } catch (err) {
      replica.close();
      throw err;
    }
    replica.#start();
    return replica;
  }

  async #restoreFromSnapshot(): Promise<void> {
    const snap = await this.#opts.fetchSnapshot();
    if (!snap) throw new SnapshotError('the server has no snapshot for this session', { replicaId: this.id });
    if (stateHashOf(snap.data) !== snap.stateHash) {
      throw new SnapshotError('snapshot bytes do not match their hash', { replicaId: this.id, seq: snap.seq });
    }
    if (snap.seq <= this.#applied) return;
    const replaced = this.#state;
    this.#state = this.#opts.app.restore(snap.data);
    this.#opts.app.dispose?.(replaced);
    this.#stateVersion++;
    this.#applied = snap.seq;
    for (const seq of this.#pending.keys()) if (seq <= snap.seq) this.#pending.delete(seq);
    if (snap.seq > this.#knownHead) this.#knownHead = snap.seq;
    this.#settleCheckpoints();
    log.info({ replicaId: this.id, seq: snap.seq }, 'restored from snapshot');
  }

  /** The replica's state as canonical bytes, for the server's snapshot store. */
  snapshot(): ReplicaSnapshot {
    const data = this.#opts.app.snapshot(this.#state);
    return { seq: this.#applied, stateHash: stateHashOf(data), data };
  }

  /**
   * The state at exactly `seq`, for a snapshot checkpoint: now if that is where
   * the replica stands, else captured right after that input applies. Refused
   * when the replica is already past it (the state there is gone) or does not
   * get there within `timeoutMs`.
   */
  checkpointAt(seq: number, timeoutMs = 10_000): Promise<ReplicaSnapshot> {
    if (this.#closed) return Promise.reject(new SnapshotError('replica closed', { replicaId: this.id }));
    if (seq === this.#applied) return Promise.resolve(this.snapshot());
    if (seq < this.#applied) {
      return Promise.reject(new SnapshotError(`already past seq ${seq}`, { replicaId: this.id, seq }));
    }
    this.#checkpoints.get(seq)?.reject(new SnapshotError('superseded', { replicaId: this.id, seq }));
    return new Promise<ReplicaSnapshot>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#checkpoints.delete(seq);
        reject(new SnapshotError(`did not reach seq ${seq} in time`, { replicaId: this.id, seq }));
      }, timeoutMs);
      timer.unref();
      this.#checkpoints.set(seq, {
        resolve: (snap) => {
          clearTimeout(timer);
          resolve(snap);
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      });
    });
  }

  /** Resolves the checkpoint at the applied seq; refuses those it has passed. */
  #settleCheckpoints(): void {
    for (const [seq, waiter] of this.#checkpoints) {
      if (seq > this.#applied) continue;
      this.#checkpoints.delete(seq);
      if (seq !== this.#applied) {
        waiter.reject(new SnapshotError(`jumped past seq ${seq}`, { replicaId: this.id, seq }));
        continue;
      }
      try {
        waiter.resolve(this.snapshot());
      } catch (err) {
        // The app's snapshot threw: that fails this replica (see #fail), not the loop applying inputs.
        waiter.reject(err instanceof Error ? err : new Error(String(err)));
        this.#fail(err, 'snapshot', seq);
      }
    }
  }

  /** Fault injection: a self-consistent snapshot of a state this replica never had (bytes match their hash). */
  forgedSnapshot(): ReplicaSnapshot {
    const copy = this.#opts.app.restore(this.#opts.app.snapshot(this.#state));
    const forged = this.#opts.app.apply(copy, {
      seq: this.#applied,
      time: 0,
      clientId: 'fault-injection',
      clientSeq: 0,
      event: { type: 'paste', text: 'FORGED BY A HOSTILE NODE' },
    });
    const data = this.#opts.app.snapshot(forged);
    return { seq: this.#applied, stateHash: stateHashOf(data), data };
  }

  #start(): void {
    if (this.#watched) this.#renderNow();
    if (!this.#opts.withoutVideo) {
      this.#keepalive = setInterval(() => this.#keepaliveTick(), Math.max(20, Math.floor(this.#opts.keepaliveMs / 2)));
    }
    this.#checkCaughtUp();
    this.#pump();
  }

  get producerId(): string | undefined {
    return this.#producer?.producerId;
  }
  get appliedSeq(): number {
    return this.#applied;
  }
  get state(): S {
    return this.#state;
  }
  get lastFrame(): RenderedFrame | undefined {
    return this.#lastFrame;
  }
  get timings() {
    return this.#renderer.lastTimings;
  }
  /** Bumped on every state change. */
  get stateVersion(): number {
    return this.#stateVersion;
  }
  get watched(): boolean {
    return this.#watched;
  }

  /**
   * The server's word on whether any viewer has a resumed consumer of this
   * stream. Unwatched: no render, read-back, conversion or encode. Watched
   * again: the current state goes out at once (the SFU asks the encoder for a
   * keyframe on resume), and once more shortly after in case that first frame
   * was encoded before the keyframe request arrived (the SFU drops delta
   * frames until a keyframe).
   */
  setWatched(watched: boolean): void {
    if (this.#closed || this.#producer === undefined || watched === this.#watched) return;
    this.#watched = watched;
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
    clearTimeout(this.#repushTimer);
    this.#repushTimer = undefined;
    if (!watched) return;
    this.#renderNow();
    this.#repushTimer = setTimeout(() => {
      this.#repushTimer = undefined;
      if (this.#watched && this.#lastFrame) this.#push(this.#lastFrame);
    }, RESUME_REPUSH_MS);
  }

  /**
   * The app area of the current picture for a thumbnail, drawn now (without
   * read-back into video or encoding) when the replica is unwatched and its
   * state moved since: thumbnails keep their own slow rate whether or not
   * anyone watches the stream.
   */
  thumbnailImage(): { image: RgbaImage; version: number } | undefined {
    if (this.#closed) return undefined;
    if (!this.#watched && this.#frameVersion !== this.#stateVersion) {
      try {
        this.#renderer.draw(this.#state, this.#applied);
        this.#frameVersion = this.#stateVersion;
      } catch (err) {
        this.#fail(err, 'render', this.#applied);
        return undefined;
      }
    }
    const image = this.#frameVersion === -1 ? undefined : this.#renderer.appArea();
    return image && { image, version: this.#frameVersion };
  }

  status(): ReplicaStatus {
    // Serialising and hashing a large document four times a second would cost
    // more than rendering it: hash once per state change.
    if (this.#hashCache?.version !== this.#stateVersion && !this.#closed) {
      try {
        this.#hashCache = { version: this.#stateVersion, hash: stateHashOf(this.#opts.app.snapshot(this.#state)) };
      } catch (err) {
        this.#fail(err, 'snapshot', this.#applied);
      }
    }
    return {
      appliedSeq: this.#applied,
      stateHash: this.#hashCache?.hash ?? '',
      framesSent: this.#producer?.framesSent ?? 0,
      videoIdle: !this.#watched,
    };
  }

  /** Accepts inputs in any order, any number of times; applies what is contiguous. */
  receive(inputs: readonly SequencedInput[]): void {
    if (this.#closed) return;
    for (const input of inputs) {
      if (input.seq <= this.#applied || this.#pending.has(input.seq)) continue;
      this.#pending.set(input.seq, input);
      if (input.seq > this.#knownHead) this.#knownHead = input.seq;
    }
    this.#drain();
    this.#pump();
  }

  /** Tells the replica the log reaches at least `seq` (from status acks): it fetches what it lacks. */
  noteHead(seq: number): void {
    if (seq > this.#knownHead) {
      this.#knownHead = seq;
      this.#pump();
    }
  }

  #drain(): void {
    let next = this.#pending.get(this.#applied + 1);
    if (!next) return;
    while (next) {
      this.#pending.delete(next.seq);
      try {
        this.#state = this.#opts.app.apply(this.#state, next);
      } catch (err) {
        this.#fail(err, 'apply', next.seq);
        return;
      }
      this.#stateVersion++;
      this.#applied = next.seq;
      this.#appliedCount++;
      if (this.#opts.corruptAfter && this.#appliedCount === this.#opts.corruptAfter) this.#corrupt();
      if (this.#checkpoints.size > 0) this.#settleCheckpoints();
      next = this.#pending.get(this.#applied + 1);
    }
    this.#markDirty();
    this.#checkCaughtUp();
  }

  /** Fault injection: apply an input nobody sent, so this replica's state diverges. */
  #corrupt(): void {
    log.warn({ replicaId: this.id, seq: this.#applied }, 'fault injection: corrupting state');
    this.#stateVersion++;
    this.#state = this.#opts.app.apply(this.#state, {
      seq: this.#applied,
      time: 0,
      clientId: 'fault-injection',
      clientSeq: 0,
      event: { type: 'paste', text: '\u2620' },
    });
  }

  #checkCaughtUp(): void {
    if (!this.#caughtUpReported && this.#applied >= this.#knownHead) {
      this.#caughtUpReported = true;
      this.emit('caughtup', this.status());
    }
  }

  /** Fetches the first missing range, one request at a time. */
  #pump(): void {
    if (this.#fetching || this.#closed || this.#applied >= this.#knownHead) return;
    const from = this.#applied + 1;
    if (this.#pending.has(from)) return;
    let to = Math.min(this.#knownHead, from + LIMITS.maxFetchBatch - 1);
    for (const seq of this.#pending.keys()) if (seq > from && seq - 1 < to) to = seq - 1;
    this.#fetching = true;
    this.#fetchRange(from, to).then(
      () => {
        this.#fetching = false;
        this.#pump();
      },
      (err: unknown) => {
        this.#fetching = false;
        log.warn({ replicaId: this.id, from, to, err }, 'input fetch failed; retrying');
        if (!this.#closed) setTimeout(() => this.#pump(), 500).unref();
      },
    );
  }

  async #fetchRange(from: number, to: number): Promise<void> {
    const { inputs, compactedThrough } = await this.#opts.fetchInputs(from, to);
    if (this.#closed) return;
    if (inputs.length > 0) {
      this.receive(inputs);
    } else if (from <= compactedThrough) {
      // We fell behind a compaction: jump to the snapshot, replay from there.
      await this.#restoreFromSnapshot();
      this.#drain();
      this.#markDirty();
    } else {
      // The log does not have it (yet): wait rather than spin.
      await new Promise((r) => setTimeout(r, 200).unref());
    }
  }

  #markDirty(): void {
    if (this.#frameTimer || this.#closed || !this.#watched) return;
    const minInterval = 1000 / this.#opts.maxFps;
    const delay = Math.max(0, this.#lastFrameAt + minInterval - performance.now());
    this.#frameTimer = setTimeout(() => {
      this.#frameTimer = undefined;
      this.#renderNow();
    }, delay);
  }

  #renderNow(): void {
    if (this.#closed) return;
    let frame: RenderedFrame;
    try {
      frame = this.#renderer.render(this.#state, this.#applied);
    } catch (err) {
      this.#fail(err, 'render', this.#applied);
      return;
    }
    this.#lastFrame = frame;
    this.#frameVersion = this.#stateVersion;
    this.#lastFrameAt = performance.now();
    this.#push(frame);
    this.emit('frame', frame);
  }

  #push(frame: RenderedFrame): void {
    this.#producer?.pushFrame(frame.i420, frame.width, frame.height);
    this.#lastPushAt = performance.now();
  }

  #keepaliveTick(): void {
    if (this.#watched && this.#lastFrame && performance.now() - this.#lastPushAt >= this.#opts.keepaliveMs)
      this.#push(this.#lastFrame);
  }

  /** The app threw or was stopped (sandbox time or memory bound): this replica is done; the server replaces it. */
  #fail(err: unknown, call: string, seq: number): void {
    if (this.#closed) return;
    log.error({ replicaId: this.id, sessionId: this.sessionId, call, seq, err }, 'app failed; replica stops');
    this.close();
    this.emit('failed', new AppFailedError(`app ${call} failed at seq ${seq}`, { replicaId: this.id, call, seq, err }));
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const [seq, waiter] of this.#checkpoints) waiter.reject(new SnapshotError('replica closed', { seq }));
    this.#checkpoints.clear();
    clearTimeout(this.#frameTimer);
    clearTimeout(this.#repushTimer);
    clearInterval(this.#keepalive);
    this.#producer?.close();
    this.#opts.app.dispose?.(this.#state);
  }
}
