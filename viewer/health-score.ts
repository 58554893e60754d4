// Scores one replica stream 0..100 from what the viewer sees (frames, stamps,
// WebRTC stats) and what the server reports (ReplicaInfo.health). Pure: every
// measurement and the current time are passed in, so it runs in Node tests.
import type { ReplicaInfo } from '../protocol/session.js';

/** Everything known about one stream at `now` (ms, any monotonic clock). */
export interface StreamObservation {
  now: number;
  /** The server's view; undefined when the replica vanished from the session. */
  replica: ReplicaInfo | undefined;
  /** The producer this stream's consumer was created for (null: not consumed yet). */
  consumedProducerId: string | null;
  /** The SFU closed our consumer (`consumer.closed` or transport gone). */
  consumerClosed: boolean;
  /**
   * True when the stream is resumed and expected to deliver frames. Warm
   * standbys are paused at the SFU: their frame metrics say nothing.
   */
  active: boolean;
  /** When the stream was last resumed (frames may take a keyframe to arrive). */
  activeSince: number | null;
  /** Frames presented over the last second. */
  fps: number | null;
  /** Time of the last presented frame, null if none yet. */
  lastFrameAt: number | null;
  /** Freezes (long inter-frame gaps) over the recent window. */
  recentFreezes: number;
  /** Seq decoded from the latest frame's stamp, null when none decoded. */
  displayedSeq: number | null;
  /** Highest seq the viewer knows exists (input acks, session head). */
  knownHeadSeq: number;
  /**
   * How long the oldest seq this stream has not yet shown has been known to
   * the viewer (0 when caught up). Input-to-photon delay as it is happening.
   */
  behindForMs: number;
  /**
   * The stale-stream verdict (protocol/freshness.ts judgeFreshness, which
   * compares this stream with the other resumed ones): its reason when
   * stale, else null. A hard failure.
   */
  staleReason: string | null;
  /** Another resumed stream presented a frame within `frozenMs`: a frozen picture here is this stream's, not the box's. */
  peerPresentingFrames: boolean;
  /** The freshest heartbeat among the session's other live replicas (ms), null when there is none. */
  freshestPeerHeartbeatMs: number | null;
  /** Fraction of packets lost over the last stats interval (0..1). */
  packetLoss: number | null;
  /** Round-trip time in ms from getStats, when the browser provides it. */
  rttMs: number | null;
  /** mediasoup consumer score 0..10 (`consumer.score`), null before the first. */
  consumerScore: number | null;
}

export interface HealthThresholds {
  /** Frame-based checks wait this long after a resume (first keyframe). */
  resumeGraceMs: number;
  /** No frame for this long counts as stale. */
  staleFrameMs: number;
  /**
   * No frame for this long on a resumed stream while another resumed stream
   * presents frames is a hard failure: renderers re-send their last frame
   * every 200 ms when idle, so silence this long means a hung, partitioned or
   * dead host even if its sockets look alive. When every stream is silent
   * (the box or the viewer is starved) none is worse than another.
   */
  frozenMs: number;
  /** Below this fps the stream counts as stuttering. */
  minFps: number;
  /**
   * Node heartbeat older than this is a hard failure (the host is likely dead),
   * unless no other live replica's is fresher than `softHeartbeatMs` (the server
   * or the box is starved, not this host).
   */
  hardHeartbeatMs: number;
  /** Node heartbeat older than this starts costing points. */
  softHeartbeatMs: number;
  /** Seqs of lag tolerated before penalties (inputs in flight). */
  toleratedLagSeq: number;
  /** Showing an old seq for longer than this costs points. */
  toleratedBehindMs: number;
  /**
   * Penalty assumed for a paused standby's unmeasurable client side, so a
   * standby never looks perfect next to a live stream with ordinary jitter.
   */
  unknownClientPenalty: number;
}

export const DEFAULT_HEALTH_THRESHOLDS: HealthThresholds = Object.freeze({
  resumeGraceMs: 2000,
  staleFrameMs: 600,
  frozenMs: 900,
  minFps: 8,
  // The server calls a replica stale after 1.5 s without a status (a hung or cut-off
  // host); health reaches the viewer every 250 ms, hence the slack.
  hardHeartbeatMs: 1800,
  softHeartbeatMs: 800,
  toleratedLagSeq: 3,
  toleratedBehindMs: 600,
  unknownClientPenalty: 10,
});

export interface HealthScore {
  score: number;
  /** Unusable now: the selector switches away at once. */
  hardFailure: boolean;
  /** Short human reasons for the penalties, for the replica bar and switch log. */
  reasons: string[];
}

function clamp(v: number, lo: number, hi: number): number {
  return Math.min(hi, Math.max(lo, v));
}

/** Linear ramp: 0 at `from`, `max` at `to` and beyond. */
function ramp(value: number, from: number, to: number, max: number): number {
  if (value <= from) return 0;
  if (value >= to) return max;
  return ((value - from) / (to - from)) * max;
}

export function scoreStream(o: StreamObservation, t: HealthThresholds = DEFAULT_HEALTH_THRESHOLDS): HealthScore {
  const hard = hardFailureReason(o, t);
  if (hard !== null) return { score: 0, hardFailure: true, reasons: [hard] };
  const replica = o.replica as ReplicaInfo; // checked by hardFailureReason
  const reasons: string[] = [];
  let penalty = 0;
  const add = (p: number, reason: string): void => {
    if (p <= 0) return;
    penalty += p;
    reasons.push(reason);
  };

  // --- the server's view (comparable across active and standby streams)
  const hb = replica.health.heartbeatAgeMs;
  add(ramp(hb, t.softHeartbeatMs, t.hardHeartbeatMs, 40), `heartbeat ${Math.round(hb)}ms`);
  const lag = replica.health.lagSeq;
  add(clamp((lag - t.toleratedLagSeq) * 3, 0, 30), `lag ${lag}`);
  const ps = replica.health.producerScore;
  if (ps !== null) add(clamp((10 - ps) * 3, 0, 30), `producer score ${ps}`);

  // --- the viewer's view (only meaningful while frames are flowing)
  if (!o.active) {
    add(t.unknownClientPenalty, 'standby');
  } else {
    const inGrace = o.activeSince !== null && o.now - o.activeSince < t.resumeGraceMs;
    if (!inGrace) {
      if (o.lastFrameAt === null) {
        add(60, 'no frames');
      } else {
        const since = o.now - o.lastFrameAt;
        // Stale beyond the threshold costs a lot at once: a frozen picture
        // is the failure users notice first.
        if (since > t.staleFrameMs)
          add(40 + ramp(since, t.staleFrameMs, 3 * t.staleFrameMs, 20), `stale ${Math.round(since)}ms`);
        else add(ramp(since, 300, t.staleFrameMs, 15), `slow frame ${Math.round(since)}ms`);
        if (o.fps !== null && since <= t.staleFrameMs) add(clamp((t.minFps - o.fps) * 2, 0, 20), `fps ${o.fps}`);
      }
      add(clamp(o.recentFreezes * 5, 0, 15), `${o.recentFreezes} freezes`);
      if (o.displayedSeq !== null && o.displayedSeq < o.knownHeadSeq) {
        add(ramp(o.behindForMs, t.toleratedBehindMs, 3000, 40), `behind ${o.knownHeadSeq - o.displayedSeq} seq`);
      }
    }
    if (o.packetLoss !== null) add(clamp(o.packetLoss * 250, 0, 25), `loss ${(o.packetLoss * 100).toFixed(1)}%`);
    if (o.rttMs !== null) add(ramp(o.rttMs, 150, 450, 15), `rtt ${Math.round(o.rttMs)}ms`);
    if (o.consumerScore !== null) add(clamp((10 - o.consumerScore) * 2, 0, 20), `consumer score ${o.consumerScore}`);
  }

  return { score: Math.round(clamp(100 - penalty, 0, 100)), hardFailure: false, reasons };
}

function hardFailureReason(o: StreamObservation, t: HealthThresholds): string | null {
  if (o.consumerClosed) return 'consumer closed';
  if (!o.replica) return 'replica gone';
  if (o.replica.state !== 'live') return `replica ${o.replica.state}`;
  if (o.replica.producerId === null) return 'producer gone';
  if (o.consumedProducerId !== null && o.consumedProducerId !== o.replica.producerId) return 'producer replaced';
  const peerHeartbeat = o.freshestPeerHeartbeatMs;
  if (
    o.replica.health.heartbeatAgeMs >= t.hardHeartbeatMs &&
    (peerHeartbeat === null || peerHeartbeat < t.softHeartbeatMs)
  )
    return 'node heartbeat lost';
  const inGrace = o.activeSince !== null && o.now - o.activeSince < t.resumeGraceMs;
  const silentFor = o.lastFrameAt === null ? 0 : o.now - o.lastFrameAt;
  if (o.active && !inGrace && silentFor > t.frozenMs && o.peerPresentingFrames) {
    return `frozen ${Math.round(silentFor)}ms`;
  }
  if (o.active && o.staleReason !== null) return o.staleReason;
  return null;
}
