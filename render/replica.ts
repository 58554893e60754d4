// A replica: one app state machine fed the session's ordered input log, drawn
// into a canvas and streamed as video. Inputs apply strictly in seq order;
// gaps are buffered and the missing range is fetched; duplicates are ignored.
// A frame is rendered right after inputs apply (latency comes from scheduling,
// not from a fixed tick), capped at maxFps, plus a cheap keepalive re-send of
// the last frame when idle. App calls may be asynchronous (a sandboxed app
// answers from its worker): they run one at a time, in order, so every apply,
// render, hash, snapshot and export sees the state of exactly one seq.
// While nobody watches its stream (a warm standby: no resumed consumer at the
// SFU) it keeps applying inputs and reporting hashes but renders and encodes
// nothing; when a viewer resumes it, it renders the current state at once.
import type { SequencedInput } from '../protocol/input.js';
import { NEUTRAL_RESTAMP_MS } from '../protocol/freshness.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import { parseSelectionGeometry, type SelectionGeometry } from '../protocol/selection.js';
import type { ReplicaAssignment } from '../protocol/signalling.js';
import { TypedEmitter } from '../protocol/typed-emitter.js';
import { digestStatusHashOf, stateHashOf } from './app-hash.js';
import { appFailureReason } from './app-failure.js';
import { AppFailedError, SnapshotError } from './errors.js';
import type { App, ExportedDocument } from './app-types.js';
import { FrameRenderer, type RenderedFrame, type RgbaImage } from './frame-renderer.js';
import { toReplicaApp, type ReplicaApp } from './replica-app.js';
import type { EncoderStats, ProducerSignalling } from './video-producer.js';
import { VideoProducer } from './video-producer.js';
import { TileStream } from './tile-stream.js';

const log = getLogger('replica');

/** Calls that may go ahead of a waiting status or thumbnail call (see #serial). */
const BACKGROUND_PATIENCE = 4;

/** After a resume, the first frame is sent again this much later (see setWatched). */
const RESUME_REPUSH_MS = 30;

export interface ReplicaOptions<S> {
  assignment: ReplicaAssignment;
  app: App<S> | ReplicaApp<S>;
  maxFps: number;
  keepaliveMs: number;
  maxBitrate: number;
  /** The floor of the encoder's bandwidth estimate (VideoProducerOptions.minBitrate); wrtc's own when absent. */
  minBitrate?: number;
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
  /** Where the app's selection ends are (touch handles), null when none or the app does not say. */
  selection: SelectionGeometry | null;
  /** No viewer watches this stream, so no frames are sent (a flat framesSent is not a stall). */
  videoIdle: boolean;
}

export interface ReplicaEvents {
  /** The replica reached the head it was told about (worth an immediate status report); its applied seq. */
  caughtup: [number];
  failed: [Error];
  frame: [RenderedFrame, FrameTiming];
}

/** When a frame's work happened (performance.now() of this process), for the frame trace. */
export interface FrameTiming {
  /** The inputs it shows were applied (the state became dirty). */
  dirtyAt: number;
  /** Its render began (after waiting for the frame-rate cap and the app calls queued before it). */
  startedAt: number;
  /** Drawn, read back and converted to I420. */
  renderedAt: number;
  /** Handed to the encoder. */
  pushedAt: number;
}

interface SeqWaiter {
  seq: number;
  /** Runs at exactly `seq` (inside the replica's serial order). */
  run(): Promise<void>;
  reject(err: Error): void;
}

export class Replica<S> extends TypedEmitter<ReplicaEvents> {
  readonly id: string;
  readonly sessionId: string;
  readonly #opts: ReplicaOptions<S>;
  readonly #app: ReplicaApp<S>;
  readonly #renderer = new FrameRenderer();
  /** Replaced when the node moves to another server (reproduce); undefined without video or while detached. */
  #producer: VideoProducer | undefined;
  /** The tile display: sends on the producer's display channel while a viewer has it open (`replica.tiles`). */
  readonly #tiles = new TileStream((message) => this.#producer?.sendTiles(message) ?? false);
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
  /** When the state first changed since the last frame (undefined: the last frame is current). */
  #dirtyAt: number | undefined;
  /**
   * Some viewer has a resumed consumer of this stream (the server says so). A
   * replica without video (tests, benchmarks) always renders.
   */
  #watched: boolean;
  /**
   * Some viewer has the video resumed (the server's word), not only the display channel open: watched without
   * it, frames go to the display channel only, nothing converted into I420 or encoded.
   */
  #video = true;
  #repushTimer: NodeJS.Timeout | undefined;
  #lastPushAt = 0;
  #caughtUpReported = false;
  #appliedCount = 0;
  /** Bumped on every state change; the status hash is recomputed only when it moves. */
  #stateVersion = 0;
  #hashCache: { version: number; hash: string } | undefined;
  /** The app defines no state digest (found at the first frame): every frame is drawn in full. */
  #digestless = false;
  /** Status hash of the state the last fully drawn frame shows (undefined: none, or not known). */
  #frameHash: string | undefined;
  /** Captures asked for at a seq (snapshot checkpoints, exports): run right after that seq applies. */
  #waiters: SeqWaiter[] = [];
  /** App calls waiting their turn: inputs, renders and captures first, then status and thumbnail work. */
  readonly #queue: { now: Array<() => Promise<void>>; background: Array<() => Promise<void>> } = {
    now: [],
    background: [],
  };
  #running = false;
  /** Calls that went ahead of the oldest waiting background call (bounded, so status reports are never starved). */
  #overtaken = 0;
  #drainQueued = false;
  #renderQueued = false;
  /** The queued render must send a frame even when the picture is unchanged (a resume, or a deferred restamp). */
  #renderNowOrNever = false;
  /** A picture-neutral state's restamp, deferred (see NEUTRAL_RESTAMP_MS); a frame that goes out first cancels it. */
  #neutralTimer: NodeJS.Timeout | undefined;
  #selectionCache: { version: number; selection: SelectionGeometry | null } | undefined;
  #closed = false;

  private constructor(opts: ReplicaOptions<S>, app: ReplicaApp<S>, state: S, producer: VideoProducer | undefined) {
    super();
    this.#opts = opts;
    this.#app = app;
    this.id = opts.assignment.replicaId;
    this.sessionId = opts.assignment.sessionId;
    this.#knownHead = opts.assignment.headSeq;
    this.#state = state;
    this.#producer = producer;
    this.#watched = opts.withoutVideo === true;
    if (producer) this.#listen(producer);
  }

  #listen(producer: VideoProducer): void {
    // A producer we already let go of (detachVideo) failing is no news.
    producer.on('failed', (err) => {
      if (this.#producer === producer) this.emit('failed', err);
    });
  }

  /**
   * The server this replica produced into is gone: stop sending video (its
   * transport leads nowhere) but keep the state and keep applying what
   * arrives, so another server can adopt it. Watched again only once re-produced.
   */
  detachVideo(): void {
    const producer = this.#producer;
    if (!producer) return;
    this.#producer = undefined;
    producer.close();
    this.#watched = false;
    this.#tiles.setOn(false);
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
    clearTimeout(this.#repushTimer);
    this.#repushTimer = undefined;
    this.#cancelNeutral();
  }

  /** Produces this replica's video anew (into the SFU of the server that adopted it), unwatched until told. */
  async reproduce(): Promise<void> {
    if (this.#closed || this.#opts.withoutVideo) return;
    this.detachVideo();
    const producer = await VideoProducer.create({
      replicaId: this.id,
      maxBitrate: this.#opts.maxBitrate,
      ...(this.#opts.minBitrate === undefined ? {} : { minBitrate: this.#opts.minBitrate }),
      maxFps: this.#opts.maxFps,
      signalling: this.#opts.signalling,
    });
    if (this.#closed || this.#producer) {
      producer.close();
      return;
    }
    this.#producer = producer;
    this.#listen(producer);
  }

  static async create<S>(opts: ReplicaOptions<S>): Promise<Replica<S>> {
    const producer = opts.withoutVideo
      ? undefined
      : await VideoProducer.create({
          replicaId: opts.assignment.replicaId,
          maxBitrate: opts.maxBitrate,
          ...(opts.minBitrate === undefined ? {} : { minBitrate: opts.minBitrate }),
          maxFps: opts.maxFps,
          signalling: opts.signalling,
        });
    const app = toReplicaApp(opts.app);
    let state: S;
    try {
      state = await app.init({ width: opts.assignment.width, height: opts.assignment.height });
    } catch (err) {
      // The app's init threw (or its sandbox did not start).
      producer?.close();
      throw err;
    }
    const replica = new Replica(opts, app, state, producer);
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

  /**
   * Runs app calls one at a time (never call it from inside a call it runs),
   * in the order asked within a lane. Background calls (status hashes,
   * thumbnails) wait while inputs, renders or captures are queued, so the
   * shown frame never queues behind them; at most BACKGROUND_PATIENCE calls go
   * ahead of a waiting one. Each call sees the state of exactly one seq either way.
   */
  #serial<T>(fn: () => Promise<T>, lane: 'now' | 'background' = 'now'): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue[lane].push(async () => {
        try {
          resolve(await fn());
        } catch (err) {
          reject(err instanceof Error ? err : new Error(String(err)));
        }
      });
      if (!this.#running) {
        this.#running = true;
        // Started on a microtask, like a promise chain: the caller's own code runs first.
        queueMicrotask(() => void this.#runQueue());
      }
    });
  }

  async #runQueue(): Promise<void> {
    const q = this.#queue;
    for (;;) {
      const takeBackground = q.background.length > 0 && (q.now.length === 0 || this.#overtaken >= BACKGROUND_PATIENCE);
      const next = takeBackground ? q.background.shift() : q.now.shift();
      if (!next) break;
      if (takeBackground) this.#overtaken = 0;
      else if (q.background.length > 0) this.#overtaken++;
      await next();
    }
    this.#running = false;
  }

  async #restoreFromSnapshot(): Promise<void> {
    const snap = await this.#opts.fetchSnapshot();
    if (!snap) throw new SnapshotError('the server has no snapshot for this session', { replicaId: this.id });
    if (stateHashOf(snap.data) !== snap.stateHash) {
      throw new SnapshotError('snapshot bytes do not match their hash', { replicaId: this.id, seq: snap.seq });
    }
    await this.#serial(async () => {
      if (snap.seq <= this.#applied || this.#closed) return;
      const restored = await this.#app.restore(snap.data);
      const replaced = this.#state;
      this.#state = restored;
      this.#app.dispose(replaced);
      this.#stateVersion++;
      this.#applied = snap.seq;
      for (const seq of this.#pending.keys()) if (seq <= snap.seq) this.#pending.delete(seq);
      if (snap.seq > this.#knownHead) this.#knownHead = snap.seq;
      await this.#settleWaiters();
      log.info({ replicaId: this.id, seq: snap.seq }, 'restored from snapshot');
    });
  }

  /** The state as canonical bytes (inside the serial order). */
  async #snapshotNow(): Promise<ReplicaSnapshot> {
    const seq = this.#applied;
    const data = await this.#app.snapshot(this.#state);
    return { seq, stateHash: stateHashOf(data), data };
  }

  /** The replica's state as canonical bytes, for the server's snapshot store. */
  snapshot(): Promise<ReplicaSnapshot> {
    return this.#serial(() => this.#snapshotNow());
  }

  /**
   * The state at exactly `seq`, for a snapshot checkpoint: now if that is where
   * the replica stands, else captured right after that input applies. Refused
   * when the replica is already past it (the state there is gone) or does not
   * get there within `timeoutMs`.
   */
  checkpointAt(seq: number, timeoutMs = 10_000): Promise<ReplicaSnapshot> {
    return this.#atSeq(seq, timeoutMs, async () => {
      try {
        return await this.#snapshotNow();
      } catch (err) {
        // The app's snapshot threw: that fails this replica (see #fail), not the loop applying inputs.
        this.#fail(err, 'snapshot', seq);
        throw err;
      }
    });
  }

  /**
   * The app's document as a file at exactly `seq` (like a checkpoint), so
   * replicas on different hosts can be compared byte for byte. A format the
   * app does not offer rejects with ExportError and leaves the replica alone.
   */
  exportAt(seq: number, format: string, timeoutMs = 10_000): Promise<ExportedDocument & { seq: number }> {
    return this.#atSeq(seq, timeoutMs, async () => ({
      ...(await this.#app.exportDocument(this.#state, format)),
      seq,
    }));
  }

  /** The app's copy text (its selection) now, once what was asked before has run. */
  copyText(): Promise<{ text: string | null; seq: number }> {
    return this.#serial(async () => ({ text: await this.#app.copyText(this.#state), seq: this.#applied }));
  }

  #atSeq<T>(seq: number, timeoutMs: number, capture: () => Promise<T>): Promise<T> {
    if (this.#closed) return Promise.reject(new SnapshotError('replica closed', { replicaId: this.id }));
    if (seq < this.#applied) {
      return Promise.reject(new SnapshotError(`already past seq ${seq}`, { replicaId: this.id, seq }));
    }
    return new Promise<T>((resolve, reject) => {
      const waiter: SeqWaiter = {
        seq,
        run: async () => {
          clearTimeout(timer);
          try {
            resolve(await capture());
          } catch (err) {
            reject(err instanceof Error ? err : new Error(String(err)));
          }
        },
        reject: (err) => {
          clearTimeout(timer);
          reject(err);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new SnapshotError(`did not reach seq ${seq} in time`, { replicaId: this.id, seq }));
      }, timeoutMs);
      timer.unref();
      this.#waiters.push(waiter);
      // Maybe the replica stands at `seq` already (once what is queued has run).
      void this.#serial(() => this.#settleWaiters());
    });
  }

  /** Runs the waiters at the applied seq; refuses those it has passed. Inside the serial order. */
  async #settleWaiters(): Promise<void> {
    const due = this.#waiters.filter((w) => w.seq <= this.#applied);
    if (due.length === 0) return;
    this.#waiters = this.#waiters.filter((w) => w.seq > this.#applied);
    for (const w of due) {
      if (w.seq !== this.#applied) w.reject(new SnapshotError(`jumped past seq ${w.seq}`, { replicaId: this.id }));
      else await w.run();
    }
  }

  /** Fault injection: a self-consistent snapshot of a state this replica never had (bytes match their hash). */
  forgedSnapshot(): Promise<ReplicaSnapshot> {
    return this.#serial(async () => {
      const copy = await this.#app.restore(await this.#app.snapshot(this.#state));
      try {
        const forged = await this.#app.apply(copy, {
          seq: this.#applied,
          time: 0,
          clientId: 'fault-injection',
          clientSeq: 0,
          event: { type: 'paste', text: 'FORGED BY A HOSTILE NODE' },
        });
        const data = await this.#app.snapshot(forged);
        return { seq: this.#applied, stateHash: stateHashOf(data), data };
      } finally {
        this.#app.dispose(copy);
      }
    });
  }

  /** Fault injection: the document as exported by a state this replica never had. */
  forgedExport(seq: number, format: string): Promise<ExportedDocument & { seq: number }> {
    return this.#atSeq(seq, 10_000, async () => {
      const copy = await this.#app.restore(await this.#app.snapshot(this.#state));
      try {
        const forged = await this.#app.apply(copy, {
          seq,
          time: 0,
          clientId: 'fault-injection',
          clientSeq: 0,
          event: { type: 'paste', text: 'FORGED BY A HOSTILE NODE' },
        });
        return { ...(await this.#app.exportDocument(forged, format)), seq };
      } finally {
        this.#app.dispose(copy);
      }
    });
  }

  #start(): void {
    if (this.#watched) this.#renderNow(true);
    else this.#warmUp();
    this.#keepKeepalive();
    this.#checkCaughtUp();
    this.#pump();
  }

  /** The keepalive timer runs only while someone watches (a standby has nothing to re-send, so no wakeups). */
  #keepKeepalive(): void {
    const want = this.#watched && this.#producer !== undefined && !this.#closed;
    if (want && !this.#keepalive) {
      this.#keepalive = setInterval(() => this.#keepaliveTick(), Math.max(20, Math.floor(this.#opts.keepaliveMs / 2)));
    } else if (!want && this.#keepalive) {
      clearInterval(this.#keepalive);
      this.#keepalive = undefined;
    }
  }

  /** The encoder's counters, undefined without video. */
  encoderStats(): Promise<EncoderStats> | undefined {
    return this.#producer?.stats();
  }

  /** What the server assigned: the session, the pinned app version, the surface. */
  get assignment(): ReplicaAssignment {
    return this.#opts.assignment;
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

  /** Frames go into the video: watched, and not only through the display channel. */
  get #encoding(): boolean {
    return this.#watched && this.#video;
  }

  /**
   * The server's word on whether any viewer has a resumed consumer of this
   * stream (`watched`; a started display channel counts) and whether one has
   * its video resumed (`video`). Unwatched: no render, read-back, conversion
   * or encode. Watched without video: rendered for the display channel only,
   * no conversion or encode. Video again: the current state goes out at once
   * (the SFU asks the encoder for a keyframe on resume), and once more shortly
   * after in case that first frame was encoded before the keyframe request
   * arrived (the SFU drops delta frames until a keyframe).
   */
  setWatched(watched: boolean, video = true): void {
    if (this.#closed || this.#producer === undefined || this.#opts.withoutVideo) return;
    const wasEncoding = this.#encoding;
    this.#video = video;
    if (watched === this.#watched) {
      if (!watched || this.#encoding === wasEncoding) return;
      // The display channel keeps it watched; only the video stopped or came back.
      clearTimeout(this.#repushTimer);
      this.#repushTimer = undefined;
      if (this.#encoding) this.#resumeVideo();
      return;
    }
    this.#watched = watched;
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
    clearTimeout(this.#repushTimer);
    this.#repushTimer = undefined;
    this.#cancelNeutral();
    this.#keepKeepalive();
    if (watched) this.#resumeVideo();
  }

  #resumeVideo(): void {
    this.#renderNow(true);
    this.#repushTimer = setTimeout(() => {
      this.#repushTimer = undefined;
      if (this.#encoding && this.#lastFrame && this.#renderer.converted) this.#push(this.#lastFrame);
    }, RESUME_REPUSH_MS);
  }

  /**
   * The server's word on whether a viewer has this replica's display channel open (tile display): on, every
   * frame also goes out as tiles, starting with a whole one now (sent again for each new viewer).
   */
  setTiles(on: boolean): void {
    if (this.#closed || this.#producer === undefined) return;
    this.#tiles.setOn(on);
    if (on && this.#watched) this.#renderNow(true);
  }

  /** Tile frames, messages and bytes sent so far on the display channel. */
  get tileCounters() {
    return this.#tiles.counters;
  }

  /**
   * The app area of the current picture for a thumbnail, drawn now (without
   * read-back into video or encoding) when the replica is unwatched and its
   * state moved since: thumbnails keep their own slow rate whether or not
   * anyone watches the stream.
   */
  thumbnailImage(maxWidth?: number): Promise<{ image: RgbaImage; version: number } | undefined> {
    return this.#serial(async () => {
      if (this.#closed) return undefined;
      if (!this.#watched && this.#frameVersion !== this.#stateVersion && !(await this.#drawUnwatched())) {
        return undefined;
      }
      const image = this.#frameVersion === -1 ? undefined : this.#renderer.appArea(maxWidth);
      return image && { image, version: this.#frameVersion };
    }, 'background');
  }

  /**
   * Draws the current state on the canvas, nothing read back or encoded (an unwatched replica's picture, for
   * a thumbnail or the warm-up); false when the app failed (the replica is closed then). In the serial order.
   */
  async #drawUnwatched(): Promise<boolean> {
    const version = this.#stateVersion;
    const seq = this.#applied;
    try {
      const paint = await this.#app.render(this.#state);
      this.#renderer.draw(this.#app.viewport(this.#state), seq, paint);
      this.#frameVersion = version;
      return true;
    } catch (err) {
      this.#fail(err, 'render', seq);
      return false;
    }
  }

  /**
   * A standby draws its state once when it starts, nothing read back or encoded: the render path (the app's
   * code, its glyph and page caches) is then warm for the frame a failover waits for. Standbys drew for a
   * thumbnail at their first look until thumbnails were asked for before being drawn (render/thumbnailer.ts);
   * without it the first frame on resume was a cold render (warm failover gap p50 +25 ms, docs/standby-cost.md).
   */
  #warmUp(): void {
    void this.#serial(async () => {
      if (!this.#closed && !this.#watched && this.#frameVersion === -1) await this.#drawUnwatched();
    }, 'background');
  }

  /**
   * The status hash of the current state when the app has a state digest
   * (cheap, and cached per state version for status() too), else null.
   * Inside the serial order; the app's digest throwing is the caller's to handle.
   */
  async #digestHash(): Promise<string | null> {
    if (this.#digestless) return null;
    if (this.#hashCache?.version === this.#stateVersion) return this.#hashCache.hash;
    const version = this.#stateVersion;
    const hash = await digestStatusHashOf(this.#app, this.#state);
    if (hash === null) this.#digestless = true;
    else this.#hashCache = { version, hash };
    return hash;
  }

  /** Applied seq and the state hash there (taken in the serial order, so the two belong together). */
  status(): Promise<ReplicaStatus> {
    return this.#serial(async () => {
      // Hash once per state change; an app with a state digest keeps even that
      // cheap (app-hash.ts), others serialise their snapshot for it.
      if (this.#hashCache?.version !== this.#stateVersion && !this.#closed) {
        const version = this.#stateVersion;
        try {
          // The rule of app-hash.ts (statusHashOf), without asking a digestless app for its digest again.
          const hash = (await this.#digestHash()) ?? stateHashOf(await this.#app.snapshot(this.#state));
          this.#hashCache = { version, hash };
        } catch (err) {
          this.#fail(err, 'snapshot', this.#applied);
        }
      }
      return {
        appliedSeq: this.#applied,
        stateHash: this.#hashCache?.hash ?? '',
        framesSent: this.#producer?.framesSent ?? 0,
        selection: await this.#selection(),
        videoIdle: !this.#encoding,
      };
    }, 'background');
  }

  /** The app's selection geometry, checked (a malformed answer is no geometry), once per state change. */
  async #selection(): Promise<SelectionGeometry | null> {
    const app = this.#app;
    if (!app.selectionGeometry || this.#closed) return null;
    if (this.#selectionCache?.version !== this.#stateVersion) {
      const version = this.#stateVersion;
      try {
        this.#selectionCache = {
          version,
          selection: parseSelectionGeometry(await app.selectionGeometry(this.#state)),
        };
      } catch (err) {
        this.#fail(err, 'selectionGeometry', this.#applied);
        return null;
      }
    }
    return this.#selectionCache.selection;
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

  /** Applies what is contiguous, in the serial order (one drain queued at a time). */
  #drain(): void {
    if (this.#drainQueued || this.#closed) return;
    this.#drainQueued = true;
    void this.#serial(async () => {
      this.#drainQueued = false;
      await this.#drainNow();
    });
  }

  async #drainNow(): Promise<void> {
    let next = this.#pending.get(this.#applied + 1);
    if (!next) return;
    while (next && !this.#closed) {
      this.#pending.delete(next.seq);
      try {
        this.#state = await this.#app.apply(this.#state, next);
      } catch (err) {
        this.#fail(err, 'apply', next.seq);
        return;
      }
      this.#stateVersion++;
      this.#applied = next.seq;
      this.#appliedCount++;
      if (this.#opts.corruptAfter && this.#appliedCount === this.#opts.corruptAfter) await this.#corrupt();
      if (this.#waiters.length > 0) await this.#settleWaiters();
      next = this.#pending.get(this.#applied + 1);
    }
    this.#markDirty();
    this.#checkCaughtUp();
    this.#pump();
  }

  /** Fault injection: apply an input nobody sent, so this replica's state diverges. */
  async #corrupt(): Promise<void> {
    log.warn({ replicaId: this.id, seq: this.#applied }, 'fault injection: corrupting state');
    this.#stateVersion++;
    this.#state = await this.#app.apply(this.#state, {
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
      this.emit('caughtup', this.#applied);
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
    if (this.#closed || !this.#watched) return;
    this.#dirtyAt ??= performance.now();
    if (this.#frameTimer) return;
    const minInterval = 1000 / this.#opts.maxFps;
    const delay = this.#lastFrameAt + minInterval - performance.now();
    // Within the frame-rate cap: render now, next in the serial order, not after a timer tick.
    if (delay <= 0) {
      this.#renderNow();
      return;
    }
    this.#frameTimer = setTimeout(() => {
      this.#frameTimer = undefined;
      this.#renderNow();
    }, delay);
  }

  /** `always`: send a frame even if the picture is unchanged (else such a frame is deferred: NEUTRAL_RESTAMP_MS). */
  #renderNow(always = false): void {
    if (always) this.#renderNowOrNever = true;
    if (this.#closed || this.#renderQueued) return;
    this.#renderQueued = true;
    void this.#serial(async () => {
      this.#renderQueued = false;
      const always = this.#renderNowOrNever;
      this.#renderNowOrNever = false;
      if (this.#closed) return;
      const startedAt = performance.now();
      const dirtyAt = this.#dirtyAt ?? startedAt;
      this.#dirtyAt = undefined;
      const seq = this.#applied;
      const version = this.#stateVersion;
      let frame: RenderedFrame | undefined;
      let hash: string | null = null;
      try {
        hash = await this.#digestHash();
      } catch (err) {
        this.#fail(err, 'snapshot', seq);
        return;
      }
      const view = this.#app.viewport(this.#state);
      // Equal status hashes are equal states, and so equal pictures: only the stamp changes (a key-up, say),
      // and that frame can wait for the next one that changes the picture.
      if (hash !== null && hash === this.#frameHash) {
        if (!always && this.#lastFrame) {
          this.#neutralTimer ??= setTimeout(() => {
            this.#neutralTimer = undefined;
            if (this.#watched) this.#renderNow(true);
          }, NEUTRAL_RESTAMP_MS);
          return;
        }
        frame = this.#renderer.restamp(view, seq, this.#encoding);
        if (frame) this.#tiles.frame(this.#renderer.canvas, view, seq, []);
      }
      if (!frame) {
        try {
          // A resume's frame is read back whole (the keyframe the SFU asked for shows the canvas as it is).
          const info = this.#renderer.nextFrame(view, always);
          const paint = await this.#app.render(this.#state, info);
          const painted = this.#app.viewport(this.#state);
          frame = this.#renderer.render(painted, seq, paint, info, this.#encoding);
          this.#tiles.frame(this.#renderer.canvas, painted, seq, this.#renderer.lastBands);
        } catch (err) {
          this.#fail(err, 'render', seq);
          return;
        }
        this.#frameHash = hash ?? undefined;
      }
      const renderedAt = performance.now();
      // This frame shows the latest applied seq, any deferred restamp's included.
      this.#cancelNeutral();
      this.#lastFrame = frame;
      this.#frameVersion = version;
      this.#lastFrameAt = renderedAt;
      this.#push(frame);
      this.emit('frame', frame, { dirtyAt, startedAt, renderedAt, pushedAt: this.#lastPushAt });
    });
  }

  #cancelNeutral(): void {
    clearTimeout(this.#neutralTimer);
    this.#neutralTimer = undefined;
  }

  /** Into the video, when one watches it (else the frame went to the display channel only). */
  #push(frame: RenderedFrame): void {
    if (this.#encoding) this.#producer?.pushFrame(frame.i420, frame.width, frame.height);
    this.#lastPushAt = performance.now();
  }

  #keepaliveTick(): void {
    if (this.#watched && this.#lastFrame && performance.now() - this.#lastPushAt >= this.#opts.keepaliveMs) {
      // The I420 lacks the picture while only the display channel watches (the next frame converts it).
      if (this.#renderer.converted) this.#push(this.#lastFrame);
      else this.#lastPushAt = performance.now();
      // The tile display's keepalive: the same picture, its header alone (the viewer's frozen-stream rule).
      this.#tiles.repeat(this.#lastFrame.seq);
    }
  }

  /** The app threw or was stopped (sandbox time or memory bound): this replica is done; the server replaces it. */
  #fail(err: unknown, call: string, seq: number): void {
    if (this.#closed) return;
    log.error({ replicaId: this.id, sessionId: this.sessionId, call, seq, err }, 'app failed; replica stops');
    this.close();
    const why = err instanceof Error ? `: ${err.message}` : '';
    const failed = new AppFailedError(`app ${call} failed at seq ${seq}${why}`, appFailureReason(err), seq, {
      replicaId: this.id,
      call,
      err,
    });
    this.emit('failed', failed);
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const w of this.#waiters.splice(0)) w.reject(new SnapshotError('replica closed', { seq: w.seq }));
    clearTimeout(this.#frameTimer);
    clearTimeout(this.#repushTimer);
    this.#cancelNeutral();
    clearInterval(this.#keepalive);
    this.#producer?.close();
    // After what is queued: a call in flight still holds the state (background calls queued behind it check #closed).
    void this.#serial(() => Promise.resolve(this.#app.dispose(this.#state)));
  }
}
