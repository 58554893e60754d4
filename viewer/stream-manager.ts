// Owns the media side of one joined session: a mediasoup-client Device, a
// receive transport per server (each ServerLink's), a consumer + sink (a
// <video>: stream-sink.ts) per replica producer, consumed from the replica's home server. Every 250 ms
// it scores each stream (health-score.ts) and lets the selector pick the live
// one. Warm mode resumes only the live stream at the SFU (standbys consumed
// paused); hot mode decodes all of them so a switch is just a z-order change.
// Between ticks the shown stream is judged by the stale rule (protocol/freshness.ts)
// whenever something is seen (a frame, an input sent or acknowledged, a session
// update), and otherwise once, by a timer armed for the earliest moment the
// verdict could change with time alone (freshnessChangesAt, the probe policy's
// own deadlines): no poll, so no main-thread wakeups while nothing can change.
import { Device } from 'mediasoup-client';
import type { types as ms } from 'mediasoup-client';
import type { ReplicaInfo, SessionInfo } from '../protocol/session.js';
import type { ServerLink } from './server-link.js';
import type { FrameTimeline } from './frame-timeline.js';
import type { StampSource } from './frame-stamp-reader.js';
import type { SinkPicture, StreamSink } from './stream-sink.js';
import { VideoSink } from './video-sink.js';
import { TileDisplay, type TileDisplayState } from './tile-display.js';
import {
  freshnessAt,
  freshnessChangesAt,
  judgeFreshness,
  STALE_SUSPECT_MS,
  type FreshnessClock,
  type FreshnessVerdict,
  type PeerClock,
  type StreamClock,
} from '../protocol/freshness.js';
import { DEFAULT_HEALTH_THRESHOLDS, scoreStream, type HealthScore } from './health-score.js';
import { StaleBound } from './stale-bound.js';
import { StreamSelector, type SwitchReason } from './stream-selector.js';
import { ProbePolicy, type ProbeCounts } from './probe-policy.js';
import type { HeadTracker } from './head-tracker.js';
import { bitrateKbps, rtcHealth, sampleRtcStats, type RtcSample } from './rtc-stats.js';
import { TypedEmitter } from './typed-emitter.js';
import { debugLog } from './debug-log.js';

const log = debugLog('streams');

export type StreamMode = 'warm' | 'hot';

const TICK_MS = 250;
/** A stale shown stream the tick could not replace (nothing better yet) is judged again this often. */
const STALE_RETRY_MS = 40;
const STATS_MS = 1000;
/** Standbys in hot mode decode every frame but need their stamp read less often. */
const STANDBY_SAMPLE_MS = 200;
/** Warm mode: pause the old stream once the new one shows a frame, or after this. */
const PAUSE_OLD_AFTER_MS = 3000;
const CONSUME_RETRY_MS = 3000;

export interface StreamView {
  replicaId: string;
  hostId: string;
  state: ReplicaInfo['state'] | 'gone';
  lagSeq: number;
  score: number;
  hardFailure: boolean;
  reasons: string[];
  live: boolean;
  resumed: boolean;
  fps: number;
  displayedSeq: number | null;
  /** App size of this stream's latest decoded frame (stamp strip excluded); null before one. */
  frameWidth: number | null;
  frameHeight: number | null;
  /** Frames this stream's sink took so far (decoded and, when shown, displayed). */
  framesSeen: number;
  bitrateKbps: number | null;
  rttMs: number | null;
  packetLoss: number | null;
}

export interface SwitchRecord {
  /** Wall-clock ms (Date.now()). */
  at: number;
  from: string | null;
  to: string;
  fromHost: string | null;
  toHost: string;
  reason: SwitchReason;
  detail: string;
  /** What failed on the stream left, for a hard-failure switch (its health's first reason, e.g. `stale: …`). */
  cause: string | null;
}

export interface StreamManagerEvents {
  switched: SwitchRecord;
  /** Per-tick view of every stream, for the replica bar. */
  streams: StreamView[];
  /** The live stream presented its first frame (false again when it is lost). */
  ready: boolean;
  error: { message: string };
  /** The live stream's app size changed (a resize input, or a switch to a stream of another size). */
  size: { width: number; height: number };
}

interface Entry {
  replicaId: string;
  /** The replica's home server: consumed from its SFU, resumed and paused through its socket. */
  link: ServerLink;
  producerId: string;
  consumer: ms.Consumer;
  sink: StreamSink;
  /** Whether the sink takes the track's frames (see attachSink). */
  sinkAttached: boolean;
  closed: boolean;
  resumed: boolean;
  activeSince: number | null;
  consumerScore: number | null;
  rtcPrev: RtcSample | null;
  packetLoss: number | null;
  rttMs: number | null;
  bitrateKbps: number | null;
  health: HealthScore;
}

export interface StreamManagerOptions {
  /** The joined link of the server homing a replica (SessionLinks.homeOf). */
  homeOf: (replicaId: string) => ServerLink | undefined;
  /** The cropping container the streams' elements are stacked in. */
  stage: HTMLElement;
  mode: StreamMode;
  heads: HeadTracker;
  /** Since when the oldest sent input expecting a frame has gone unacknowledged (InputSender.unackedSince). */
  unackedSince?: () => number | null;
  /** Where the streams' frame stamps are read (frame-stamp-reader.ts); default a track processor where there is one. */
  stamps?: StampSource;
  /** `tiles`: the shown stream drawn from its display channel, its video paused (tile-display.ts). Default video. */
  display?: 'video' | 'tiles';
}

export class StreamManager extends TypedEmitter<StreamManagerEvents> {
  private readonly entries = new Map<string, Entry>();
  private readonly consuming = new Set<string>();
  /** Replica → when consuming it last failed: retried after CONSUME_RETRY_MS, not every tick. */
  private readonly consumeFailedAt = new Map<string, number>();
  private readonly selector = new StreamSelector();
  private session: SessionInfo | null = null;
  private device: Device | null = null;
  private deviceLoading: Promise<Device> | null = null;
  /** Links whose transport is open (attachLink) and not dropped since. */
  private readonly attached = new Set<ServerLink>();
  private tickTimer: ReturnType<typeof setInterval> | null = null;
  /** The stale check's one timer (armStaleCheck) and the time it is armed for. */
  private staleTimer: ReturnType<typeof setTimeout> | null = null;
  private staleAt: number | null = null;
  /** A check is running (a tick it starts does not start another) or queued for the end of this task. */
  private checkingStale = false;
  private staleCheckQueued = false;
  /** The stale rule's verdict on the shown stream at the latest check (null: none judged). */
  private lastVerdict: FreshnessVerdict['state'] | null = null;
  /** The stale-stream bound, widened by the delays seen on the shown stream. */
  private readonly staleBound = new StaleBound();
  /** Highest seq whose input-to-shown delay was sampled. */
  private sampledSeq = 0;
  private statsTimer: ReturnType<typeof setInterval> | null = null;
  private pendingPause: { replicaId: string; newId: string; since: number } | null = null;
  /**
   * Warm mode: a standby resumed (not shown) while the shown stream is suspect,
   * so the stale rule can compare it with another stream and a switch finds it
   * already decoding.
   */
  private readonly probes = new ProbePolicy();
  private readyValue = false;
  /** Bumped on every attach/detach: async work from an older generation is dropped. */
  private generation = 0;
  private online = false;
  /** While the first consumers of an attach are being created, an empty set is not a failure. */
  private attaching = 0;

  /** The tile display (`?display=tiles`), null for video only. */
  private readonly tiles: TileDisplay | null;

  constructor(private readonly opts: StreamManagerOptions) {
    super();
    this.tiles = opts.display === 'tiles' ? new TileDisplay(opts.stage) : null;
  }

  /** The tile display's state for the shown stream; null for video only. */
  get tileState(): TileDisplayState | null {
    return this.tiles?.state ?? null;
  }

  get mode(): StreamMode {
    return this.opts.mode;
  }

  get ready(): boolean {
    return this.readyValue;
  }

  get liveReplicaId(): string | null {
    return this.selector.current;
  }

  /** Warm mode's suspicions of the shown stream and probes so far (probe-policy.ts). */
  get probeCounts(): ProbeCounts {
    return this.probes.counts;
  }

  liveReplica(): ReplicaInfo | undefined {
    const id = this.selector.current;
    return this.session?.replicas.find((r) => r.replicaId === id);
  }

  /** What the live stream displays now (for copies: frame-grab.ts); null before a frame. */
  livePicture(): SinkPicture | null {
    return this.tiles?.picture(this.selector.current) ?? this.liveSink()?.picture() ?? null;
  }

  /** The live stream's frame history (stamps shown, frame times). */
  liveTimeline(): FrameTimeline | null {
    return this.liveSink()?.timeline ?? null;
  }

  private liveSink(): StreamSink | null {
    const id = this.selector.current;
    return (id !== null && this.entries.get(id)?.sink) || null;
  }

  /**
   * The app size the live picture shows: from its decoded frame (resize inputs
   * change it on every replica; SessionInfo keeps the creation size), else the
   * session's size until a frame arrives.
   */
  appSize(): { width: number; height: number } {
    return this.tiles?.appSize(this.selector.current) ?? this.liveSink()?.frameAppSize() ?? this.sessionSize();
  }

  private sessionSize(): { width: number; height: number } {
    return { width: this.session?.width ?? 0, height: this.session?.height ?? 0 };
  }

  private lastEmittedSize = { width: 0, height: 0 };

  private emitSizeIfChanged(): void {
    const size = this.appSize();
    if (size.width === this.lastEmittedSize.width && size.height === this.lastEmittedSize.height) return;
    this.lastEmittedSize = size;
    this.emit('size', size);
  }

  /**
   * After every (re-)join on a server: a fresh transport there and consumers
   * for the replicas it homes. One Device for all servers, loaded from the
   * first join (every server's router has the same codecs).
   */
  async attachLink(link: ServerLink, session: SessionInfo): Promise<void> {
    const gen = this.generation;
    for (const e of [...this.entries.values()]) if (e.link === link) this.removeEntry(e);
    this.attached.delete(link);
    this.session ??= session;
    this.online = true;
    const device = await this.loadDevice(link.routerRtpCapabilities);
    if (gen !== this.generation) return;
    const transport = await link.openTransport(device, session.sessionId, this.tiles !== null);
    if (gen !== this.generation || !transport) return;
    this.attached.add(link);
    if (this.tickTimer === null) this.startTimers();
    this.attaching++;
    try {
      await this.reconcile();
    } finally {
      this.attaching--;
    }
    this.tick();
  }

  private loadDevice(routerRtpCapabilities: unknown): Promise<Device> {
    if (this.device) return Promise.resolve(this.device);
    this.deviceLoading ??= (async () => {
      const device = createDevice();
      await device.load({ routerRtpCapabilities: routerRtpCapabilities as ms.RtpCapabilities });
      this.device = device;
      return device;
    })().finally(() => (this.deviceLoading = null));
    return this.deviceLoading;
  }

  /**
   * One server dropped while others stay: its streams are gone, as if their
   * renderers had crashed (the shown one is left now, not at the next tick).
   */
  linkOffline(link: ServerLink): void {
    this.attached.delete(link);
    for (const e of this.entries.values()) if (e.link === link) e.closed = true;
    this.tick();
  }

  /** No server is joined (each tears our transport down): stop judging streams until a re-attach. */
  setOffline(): void {
    this.online = false;
    this.attached.clear();
  }

  onSessionUpdate(session: SessionInfo): void {
    if (this.session && session.sessionId !== this.session.sessionId) return;
    const sizeChanged = !this.session || this.session.width !== session.width || this.session.height !== session.height;
    const shownWasLive = this.shownLive();
    this.session = session;
    if (sizeChanged) for (const e of this.entries.values()) e.sink.sessionSizeChanged();
    void this.reconcile();
    // The shown replica just stopped being live (its host died, say): choose now. The
    // stale check skips a stream reconcile just dropped, and the next tick is up to 250 ms away.
    if (shownWasLive && !this.shownLive()) this.tick();
    else this.requestStaleCheck(); // a new head (another viewer's inputs) makes the shown stream behind
  }

  /** The shown stream is consumed and the session says its replica is live. */
  private shownLive(): boolean {
    const id = this.selector.current;
    if (id === null || !this.entries.has(id)) return false;
    return this.session?.replicas.find((r) => r.replicaId === id)?.state === 'live';
  }

  onConsumerClosed(consumerId: string): void {
    for (const e of this.entries.values()) {
      if (e.consumer.id === consumerId) {
        e.closed = true;
        log('consumer closed', e.replicaId);
      }
    }
    this.tick(); // hard failure: switch now, not at the next tick
  }

  onConsumerScore(consumerId: string, score: number): void {
    for (const e of this.entries.values()) if (e.consumer.id === consumerId) e.consumerScore = score;
  }

  dispose(): void {
    this.generation++;
    this.teardownMedia();
    this.removeAllListeners();
  }

  // ------------------------------------------------------------ consumers

  /** Consumes new producers and drops streams whose replica or producer is gone. */
  private async reconcile(): Promise<void> {
    const session = this.session;
    if (!session || this.attached.size === 0 || !this.online) return;
    const byId = new Map(session.replicas.map((r) => [r.replicaId, r]));
    for (const e of [...this.entries.values()]) {
      const r = byId.get(e.replicaId);
      const gone =
        !r ||
        r.state === 'closed' ||
        r.producerId !== e.producerId ||
        e.closed ||
        e.consumer.closed ||
        this.opts.homeOf(e.replicaId) !== e.link;
      // A live stream whose producer merely vanished keeps its last picture
      // until something replaces it; anything else that is gone is dropped
      // (and re-consumed below if its replica has a new producer).
      const keepFrozen = e.replicaId === this.selector.current && !!r && r.state !== 'closed' && r.producerId === null;
      if (gone && !keepFrozen) this.removeEntry(e);
    }
    const now = performance.now();
    const wanted = session.replicas.filter(
      (r) =>
        r.producerId !== null &&
        r.state !== 'closed' &&
        !this.entries.has(r.replicaId) &&
        !this.consuming.has(r.replicaId) &&
        now - (this.consumeFailedAt.get(r.replicaId) ?? Number.NEGATIVE_INFINITY) >= CONSUME_RETRY_MS,
    );
    await Promise.all(wanted.map((r) => this.consume(r)));
  }

  private async consume(r: ReplicaInfo): Promise<void> {
    const device = this.device;
    const link = this.opts.homeOf(r.replicaId);
    const transport = link && this.attached.has(link) ? link.transport : null;
    if (!device || !link || !transport || r.producerId === null) return;
    const gen = this.generation;
    // The link re-joined (a new transport) or dropped meanwhile: this consumer belongs to the old one.
    const stale = (): boolean => gen !== this.generation || link.transport !== transport;
    const producerId = r.producerId;
    // Warm standbys stay paused at the SFU; the live one (or all, hot) plays.
    const play = this.opts.mode === 'hot' || r.replicaId === this.selector.current;
    this.consuming.add(r.replicaId);
    try {
      const params = await link.client.request({
        type: 'consume',
        transportId: transport.id,
        producerId,
        rtpCapabilities: device.rtpCapabilities,
        paused: !play,
      });
      if (stale()) return;
      const consumer = await transport.consume({
        id: params.id,
        producerId: params.producerId,
        kind: params.kind,
        rtpParameters: params.rtpParameters as ms.RtpParameters,
      });
      if (stale()) {
        consumer.close();
        return;
      }
      minimiseJitterBuffer(consumer.rtpReceiver);
      // Each stream is sized from its own frames: replicas apply a resize at the same seq, not the same instant.
      const onResize = (): void => {
        if (this.liveSink() === sink) this.emitSizeIfChanged();
      };
      const sessionSize = (): { width: number; height: number } => this.sessionSize();
      const sink: StreamSink = new VideoSink(sessionSize, onResize, this.opts.stamps);
      this.opts.stage.appendChild(sink.element);
      sink.sampleIntervalMs = STANDBY_SAMPLE_MS;
      // Every frame and stamp seen is a moment the stale rule's verdict may change.
      sink.timeline.onChange = () => this.requestStaleCheck();
      const entry: Entry = {
        replicaId: r.replicaId,
        link,
        producerId,
        consumer,
        sink,
        sinkAttached: false,
        closed: false,
        resumed: false,
        activeSince: null,
        consumerScore: null,
        rtcPrev: null,
        packetLoss: null,
        rttMs: null,
        bitrateKbps: null,
        health: { score: 0, hardFailure: false, reasons: [] },
      };
      consumer.on('transportclose', () => (entry.closed = true));
      consumer.on('trackended', () => (entry.closed = true));
      this.entries.set(r.replicaId, entry);
      this.consumeFailedAt.delete(r.replicaId);
      if (this.opts.mode === 'hot') this.attachSink(entry);
      if (play) await this.resume(entry);
      this.restack();
      this.requestStaleCheck(); // a standby to probe with, or to compare the shown stream with
    } catch (err) {
      log('consume failed', r.replicaId, err);
      this.consumeFailedAt.set(r.replicaId, performance.now());
      if (gen === this.generation)
        this.emit('error', { message: `could not open the stream of replica ${r.replicaId}` });
    } finally {
      if (gen === this.generation) this.consuming.delete(r.replicaId);
    }
  }

  private async resume(e: Entry): Promise<void> {
    if (e.resumed || e.closed) return;
    this.attachSink(e); // before the keyframe is asked for, so it is decoded on arrival
    e.resumed = true;
    e.activeSince = performance.now();
    e.sink.timeline.markResumed();
    try {
      await e.link.client.request({ type: 'consumer.resume', consumerId: e.consumer.id, keyFrame: true });
    } catch (err) {
      e.resumed = false;
      e.activeSince = null;
      log('resume failed', e.replicaId, err);
    }
  }

  private async pause(e: Entry): Promise<void> {
    if (!e.resumed || e.closed) return;
    e.resumed = false;
    e.activeSince = null;
    await e.link.client
      .request({ type: 'consumer.pause', consumerId: e.consumer.id })
      .catch((err: unknown) => log('pause failed', err));
  }

  // Warm standbys are paused at the SFU, so nothing arrives to decode; still, a
  // <video> playing a track keeps a media player, its frame pool and compositor
  // layer alive in the tab (a processor, its frame stream). A paused standby
  // holds no sink (and reads no stamps); resume() attaches it again before
  // asking for the keyframe.
  private attachSink(e: Entry): void {
    if (e.sinkAttached) return;
    e.sinkAttached = true;
    e.sink.attach(e.consumer.track);
  }

  private detachSink(e: Entry): void {
    if (!e.sinkAttached) return;
    e.sinkAttached = false;
    e.sink.detach();
  }

  /** Warm mode, once the live stream shows a frame: paused standbys drop their sinks (the live one covers them). */
  private releaseStandbySinks(): void {
    if (this.opts.mode !== 'warm' || this.pendingPause) return;
    const live = this.selector.current === null ? undefined : this.entries.get(this.selector.current);
    if (!live || !presentedSinceResume(live)) return;
    for (const e of this.entries.values()) if (e !== live && !e.resumed) this.detachSink(e);
  }

  private removeEntry(e: Entry): void {
    this.entries.delete(e.replicaId);
    if (this.probes.replicaId === e.replicaId) this.probes.dropped();
    this.detachSink(e);
    e.sink.dispose();
    if (!e.consumer.closed) e.consumer.close();
    if (!e.closed && this.online && this.attached.has(e.link)) {
      void e.link.client.request({ type: 'consumer.close', consumerId: e.consumer.id }).catch(() => undefined);
    }
  }

  private teardownMedia(): void {
    this.stopTimers();
    this.tiles?.follow(null);
    for (const e of [...this.entries.values()]) this.removeEntry(e);
    this.consuming.clear();
    this.consumeFailedAt.clear();
    this.pendingPause = null;
    this.probes.reset();
    for (const link of this.attached) link.closeTransport();
    this.attached.clear();
    this.setReady(false);
  }

  // ------------------------------------------------------------ scoring & switching

  private startTimers(): void {
    this.stopTimers();
    this.tickTimer = setInterval(() => this.tick(), TICK_MS);
    this.statsTimer = setInterval(() => void this.pollStats(), STATS_MS);
  }

  /**
   * An input that expects a frame was acknowledged (first sent at `sentAt`): the shown stream is behind from then
   * on, which the rule counts from the send, so it can matter from sentAt + STALE_SUSPECT_MS, at once for a late
   * ack (after a route move, the ack through another server is what makes a silent stream stale). An ack also
   * settles an input a suspicion may have waited on: judged now then.
   */
  inputAcked(sentAt: number): void {
    if (this.probes.replicaId !== null || this.lastVerdict === 'suspect') this.requestStaleCheck();
    else this.checkBy(sentAt + STALE_SUSPECT_MS);
  }

  /**
   * Inputs were sent or settled (InputSender 'stats'): an input unacknowledged since `unackedSince` can make a
   * silent shown stream suspect (protocol/freshness.ts), from unackedSince + STALE_SUSPECT_MS at the earliest.
   */
  inputsChanged(unackedSince: number | null): void {
    if (this.probes.replicaId !== null || this.lastVerdict === 'suspect') this.requestStaleCheck();
    else if (unackedSince !== null) this.checkBy(unackedSince + STALE_SUSPECT_MS);
  }

  /** Something the verdict depends on changed: judged at the end of this task (once, however many changed). */
  private requestStaleCheck(): void {
    if (this.staleCheckQueued || this.tickTimer === null) return;
    this.staleCheckQueued = true;
    queueMicrotask(() => {
      this.staleCheckQueued = false;
      this.checkStale();
    });
  }

  /** Nothing seen can change the verdict before `at`: the armed check is kept if it comes first, else moved there. */
  private checkBy(at: number): void {
    if (this.tickTimer === null || (this.staleAt !== null && this.staleAt <= at)) return;
    if (at <= performance.now()) this.requestStaleCheck();
    else this.armStaleCheck(at);
  }

  /** The one stale-check timer, for `at` (null: none). A deadline already passed is taken a millisecond later. */
  private armStaleCheck(at: number | null): void {
    if (at === this.staleAt && (at === null || this.staleTimer !== null)) return;
    if (this.staleTimer !== null) clearTimeout(this.staleTimer);
    this.staleTimer = null;
    this.staleAt = at;
    if (at === null || this.tickTimer === null) return;
    this.staleTimer = setTimeout(
      () => {
        this.staleTimer = null;
        this.staleAt = null;
        this.checkStale();
      },
      Math.max(1, Math.ceil(at - performance.now())),
    );
  }

  /**
   * Between ticks: probes a standby when the shown stream is suspect, scores and switches now when it is stale,
   * then arms the timer for the next moment the verdict could change with nothing seen.
   */
  private checkStale(): void {
    if (this.checkingStale || this.tickTimer === null) return;
    this.checkingStale = true;
    try {
      let next = this.judgeShown();
      if (next === 'stale') {
        this.tick();
        next = this.judgeShown();
        // Still stale (nothing to switch to yet): judged again shortly, as the tick may find a stream then.
        if (next === 'stale') next = performance.now() + STALE_RETRY_MS;
      }
      this.armStaleCheck(next);
    } finally {
      this.checkingStale = false;
    }
  }

  /** One judgement of the shown stream: 'stale', or when to judge it again with nothing seen (null: not before). */
  private judgeShown(): number | null | 'stale' {
    this.hideCovered();
    const live = this.selector.current === null ? undefined : this.entries.get(this.selector.current);
    this.lastVerdict = null;
    if (!live || live.health.hardFailure) return null; // the tick's to handle
    const now = performance.now();
    this.sampleDelay(live, now);
    const clock = this.clock(live);
    const verdict = judgeFreshness(freshnessAt(clock, now));
    this.lastVerdict = verdict.state;
    this.steerProbe(live, verdict, now);
    if (verdict.state === 'stale') {
      const t = live.sink.timeline;
      log('stale', live.replicaId, verdict.reason, {
        silentMs: t.lastFrameAt === null ? null : Math.round(now - t.lastFrameAt),
        worstMs: this.staleBound.worstMs,
        probe: this.probes.replicaId,
      });
      return 'stale';
    }
    const changes = freshnessChangesAt(this.clock(live), now); // a probe steerProbe resumed is a peer now
    const probe = this.opts.mode === 'warm' ? this.probes.nextCheckAt() : null;
    return changes === null ? probe : probe === null ? changes : Math.min(changes, probe);
  }

  private streamClock(e: Entry): StreamClock {
    const t = e.sink.timeline;
    return {
      displayedSeq: t.lastSeq,
      path: this.tiles?.displays(e.replicaId) ? 'tiles' : 'video',
      behindSince: this.opts.heads.behindSince(t.lastSeq),
      activeSince: e.activeSince,
      lastFrameAt: t.lastFrameAt,
    };
  }

  /** What the stale-stream rule (protocol/freshness.ts) sees of one stream, against every other resumed one. */
  private clock(e: Entry): FreshnessClock {
    const peers: PeerClock[] = [];
    for (const p of this.entries.values()) {
      if (p !== e && p.resumed && !p.closed) peers.push({ replicaId: p.replicaId, ...this.streamClock(p) });
    }
    return {
      shown: { ...this.streamClock(e), active: e.resumed },
      peers,
      recentWorstMs: this.staleBound.worstMs,
      unackedSince: this.opts.unackedSince?.() ?? null,
    };
  }

  /** The stale-stream rule for one stream at `now`. */
  private judge(e: Entry, now: number): FreshnessVerdict {
    return judgeFreshness(freshnessAt(this.clock(e), now));
  }

  /** Another resumed stream presented a frame within the frozen bound. */
  private peerPresenting(e: Entry, now: number): boolean {
    for (const p of this.entries.values()) {
      const at = p.sink.timeline.lastFrameAt;
      if (p !== e && p.resumed && !p.closed && at !== null && now - at <= DEFAULT_HEALTH_THRESHOLDS.frozenMs)
        return true;
    }
    return false;
  }

  /**
   * Warm mode: resume the best standby while the shown stream is suspect; pause it once it is fresh again.
   * Hot mode: while it is suspect, every standby's stamp is read on every frame (evidence now, as a probe's is):
   * sampled every STANDBY_SAMPLE_MS, a standby looked that much further behind than it was.
   */
  private steerProbe(live: Entry, verdict: FreshnessVerdict, now: number): void {
    if (this.opts.mode === 'hot') {
      const interval = verdict.state === 'fresh' ? STANDBY_SAMPLE_MS : 0;
      for (const e of this.entries.values()) if (e !== live) e.sink.sampleIntervalMs = interval;
      return;
    }
    const probeId = this.probes.replicaId;
    let probing = probeId === null ? undefined : this.entries.get(probeId);
    if (probeId !== null && (!probing || probing === live || probing.closed)) {
      this.probes.dropped();
      probing = undefined;
    }
    const decision = this.probes.check({
      now,
      shown: verdict.state,
      probePresented: !!probing?.resumed && presentedSinceResume(probing),
    });
    if (decision === 'end' && probing) {
      log('probe ends', probing.replicaId, this.probes.holdMs > 0 ? `next waits ${this.probes.holdMs}ms` : '');
      probing.sink.sampleIntervalMs = STANDBY_SAMPLE_MS;
      void this.pause(probing);
      return;
    }
    if (decision !== 'start' || this.pendingPause || verdict.state !== 'suspect') return;
    let best: Entry | undefined;
    for (const e of this.entries.values()) {
      if (e === live || e.closed || e.resumed || e.health.hardFailure) continue;
      if (!best || e.health.score > best.health.score) best = e;
    }
    if (!best) return;
    log(
      'probe',
      best.replicaId,
      verdict.behindForMs > 0
        ? `shown stream behind ${Math.round(verdict.behindForMs)}ms`
        : 'shown stream silent with an input unacknowledged',
    );
    this.probes.started(best.replicaId, now);
    best.sink.sampleIntervalMs = 0; // every frame's stamp: it is evidence now
    void this.resume(best);
  }

  /** The delay of the oldest input the shown stream newly shows (StaleBound.noteShown says which count). */
  private sampleDelay(live: Entry, now: number): void {
    const t = live.sink.timeline;
    const seq = t.lastSeq;
    if (seq === null || seq <= this.sampledSeq) return;
    const knownAt = this.opts.heads.knownSince(this.sampledSeq + 1);
    this.sampledSeq = seq;
    if (!live.resumed || live.activeSince === null || knownAt === null) return;
    this.staleBound.noteShown({ knownAt, shownAt: t.lastFrameAt ?? now, resumedAt: live.activeSince });
  }

  private stopTimers(): void {
    if (this.tickTimer !== null) clearInterval(this.tickTimer);
    if (this.staleTimer !== null) clearTimeout(this.staleTimer);
    if (this.statsTimer !== null) clearInterval(this.statsTimer);
    this.tickTimer = this.staleTimer = this.statsTimer = null;
    this.staleAt = null;
  }

  private tick(): void {
    const session = this.session;
    if (!session) return;
    const now = performance.now();
    const byId = new Map(session.replicas.map((r) => [r.replicaId, r]));
    const shown = this.selector.current === null ? undefined : this.entries.get(this.selector.current);
    if (shown) this.sampleDelay(shown, now);
    for (const e of this.entries.values()) {
      const t = e.sink.timeline;
      const verdict = e.resumed ? this.judge(e, now) : null;
      e.health = scoreStream({
        now,
        replica: byId.get(e.replicaId),
        consumedProducerId: e.producerId,
        consumerClosed: e.closed || e.consumer.closed,
        active: e.resumed,
        activeSince: e.activeSince,
        fps: t.fps(now),
        lastFrameAt: t.lastFrameAt,
        recentFreezes: t.recentFreezes(now),
        displayedSeq: t.lastSeq,
        knownHeadSeq: this.opts.heads.head,
        behindForMs: this.opts.heads.behindForMs(t.lastSeq, now),
        staleReason: verdict?.state === 'stale' ? verdict.reason : null,
        peerPresentingFrames: this.peerPresenting(e, now),
        freshestPeerHeartbeatMs: freshestHeartbeat(session, e.replicaId),
        packetLoss: e.packetLoss,
        rttMs: e.rttMs,
        consumerScore: e.consumerScore,
      });
    }
    // Offline, every stream looks dead at once: hold the current choice.
    if (this.online && this.attaching === 0) {
      // A probe is a standby that happens to play: it competes only when the shown stream failed
      // (it is in its resume grace, so a soft switch would compare a graced stream with a measured one).
      const liveScore = shown && !shown.health.hardFailure ? shown.health.score : null;
      const candidates = [...this.entries.values()].map((e) => ({
        id: e.replicaId,
        score:
          liveScore !== null && e.replicaId === this.probes.replicaId
            ? Math.min(e.health.score, liveScore)
            : e.health.score,
        hardFailure: e.health.hardFailure,
      }));
      const sel = this.selector.update(now, candidates);
      if (sel.switched)
        this.applySwitch(sel.switched.from, sel.switched.to, sel.switched.reason, sel.switched.detail, byId);
      this.finishPendingPause(now);
      this.releaseStandbySinks();
      void this.reconcile(); // drop streams that failed and are no longer shown
    }
    const live = this.selector.current === null ? undefined : this.entries.get(this.selector.current);
    this.setReady(!!live && live.resumed && live.sink.timeline.lastFrameAt !== null && !live.health.hardFailure);
    this.tiles?.follow(
      live && live.resumed && !live.closed && !live.health.hardFailure
        ? { ...live, presented: presentedSinceResume(live) }
        : null,
    );
    this.emit('streams', this.views(byId, now));
    // Scores, switches, pauses and resumes change what the stale rule sees (a tick a stale check started is
    // followed by that check's own judgement).
    this.checkStale();
  }

  private applySwitch(
    from: string | null,
    to: string,
    reason: SwitchReason,
    detail: string,
    byId: Map<string, ReplicaInfo>,
  ): void {
    const next = this.entries.get(to);
    if (!next) return;
    log('switch', from, '→', to, reason, detail);
    this.probes.switchedTo(to);
    next.sink.sampleIntervalMs = 0;
    const prev = from === null ? undefined : this.entries.get(from);
    if (prev) prev.sink.sampleIntervalMs = STANDBY_SAMPLE_MS;
    void this.resume(next);
    if (this.opts.mode === 'warm' && prev && !prev.closed) {
      this.pendingPause = { replicaId: prev.replicaId, newId: to, since: performance.now() };
    }
    this.restack();
    this.emit('switched', {
      at: Date.now(),
      from,
      to,
      fromHost: from === null ? null : (byId.get(from)?.hostId ?? null),
      toHost: byId.get(to)?.hostId ?? '?',
      reason,
      detail,
      cause: reason === 'hard-failure' ? (prev?.health.reasons[0] ?? null) : null,
    });
  }

  /** Warm mode: the old stream keeps playing under the new one until the new one shows a frame. */
  private finishPendingPause(now: number): void {
    const p = this.pendingPause;
    if (this.opts.mode === 'warm') {
      // Anything else still playing (e.g. after quick successive switches) is paused now.
      for (const e of this.entries.values()) {
        const keep = e.replicaId === this.selector.current || e.replicaId === p?.replicaId;
        if (e.resumed && !keep && e.replicaId !== this.probes.replicaId) void this.pause(e);
      }
    }
    if (!p) return;
    const next = this.entries.get(p.newId);
    const shown = !!next && presentedSinceResume(next);
    if (!shown && now - p.since < PAUSE_OLD_AFTER_MS) return;
    this.pendingPause = null;
    const old = this.entries.get(p.replicaId);
    if (old && old.replicaId !== this.selector.current) void this.pause(old);
  }

  /** Live on top; a just-resumed live stream is transparent until its first frame, so the old picture shows through. */
  private restack(): void {
    for (const e of this.entries.values()) {
      const live = e.replicaId === this.selector.current;
      if (live) e.sink.setShown(true);
      e.sink.element.classList.toggle('live', live);
      e.sink.element.classList.toggle('standby', !live);
    }
    this.hideCovered();
    this.emitSizeIfChanged();
  }

  /**
   * Once the live stream has presented a frame, the pictures under it stop being drawn
   * (until then the old stream keeps showing, and drawing, under the transparent new one).
   */
  private hideCovered(): void {
    const live = this.liveSink();
    if (!live?.presented) return;
    for (const e of this.entries.values()) if (e.sink !== live) e.sink.setShown(false);
  }

  private async pollStats(): Promise<void> {
    for (const e of this.entries.values()) {
      if (!e.resumed || e.closed || e.consumer.closed) continue;
      try {
        const report = await e.consumer.getStats();
        const sample = sampleRtcStats(report.values() as Iterable<{ type?: unknown } & Record<string, unknown>>);
        const h = rtcHealth(e.rtcPrev, sample);
        e.bitrateKbps = bitrateKbps(e.rtcPrev, sample);
        e.rtcPrev = sample;
        e.packetLoss = h.packetLoss;
        e.rttMs = h.rttMs;
      } catch {
        // Stats are advisory: a closed consumer or old browser just has none.
      }
    }
  }

  private setReady(ready: boolean): void {
    if (ready === this.readyValue) return;
    this.readyValue = ready;
    this.emit('ready', ready);
  }

  private views(byId: Map<string, ReplicaInfo>, now: number): StreamView[] {
    const session = this.session;
    if (!session) return [];
    return session.replicas.map((r) => {
      const e = this.entries.get(r.replicaId);
      return {
        replicaId: r.replicaId,
        hostId: r.hostId,
        state: byId.has(r.replicaId) ? r.state : 'gone',
        lagSeq: r.health.lagSeq,
        score: e?.health.score ?? 0,
        hardFailure: e?.health.hardFailure ?? true,
        reasons: e?.health.reasons ?? [r.producerId === null ? 'no producer' : 'connecting'],
        live: r.replicaId === this.selector.current,
        resumed: e?.resumed ?? false,
        fps: e ? e.sink.timeline.fps(now) : 0,
        displayedSeq: e?.sink.timeline.lastSeq ?? null,
        frameWidth: (this.tiles?.appSize(r.replicaId) ?? e?.sink.frameAppSize())?.width ?? null,
        frameHeight: (this.tiles?.appSize(r.replicaId) ?? e?.sink.frameAppSize())?.height ?? null,
        framesSeen: e?.sink.timeline.framesSeen ?? 0,
        bitrateKbps: e?.bitrateKbps ?? null,
        rttMs: e?.rttMs ?? null,
        packetLoss: e?.packetLoss ?? null,
      };
    });
  }
}

/** The stream presented a frame since it was last resumed (false while paused). */
function presentedSinceResume(e: Entry): boolean {
  const at = e.sink.timeline.lastFrameAt;
  return at !== null && e.activeSince !== null && at >= e.activeSince;
}

/** The freshest node heartbeat among the session's other live replicas, null when there is none. */
function freshestHeartbeat(session: SessionInfo, replicaId: string): number | null {
  let best: number | null = null;
  for (const r of session.replicas) {
    if (r.replicaId === replicaId || r.state !== 'live') continue;
    if (best === null || r.health.heartbeatAgeMs < best) best = r.health.heartbeatAgeMs;
  }
  return best;
}

function createDevice(): Device {
  try {
    return new Device({ handlerName: 'Chrome111' });
  } catch {
    return new Device(); // not Chromium: let mediasoup-client detect the browser
  }
}

/**
 * A remote screen is interactive: show each frame as soon as it is decoded
 * rather than buffering for smooth motion. Chromium exposes the target as
 * `jitterBufferTarget` (ms) and, earlier, `playoutDelayHint` (s).
 */
function minimiseJitterBuffer(receiver: RTCRtpReceiver | undefined): void {
  if (!receiver) return;
  const r = receiver as unknown as { jitterBufferTarget?: number | null; playoutDelayHint?: number | null };
  try {
    if ('jitterBufferTarget' in receiver) r.jitterBufferTarget = 0;
    else r.playoutDelayHint = 0;
  } catch {
    // Unsupported value on this browser: keep its default buffering.
  }
}
