// When a shown stream is stale: the one rule (pure, fed by the viewer's
// stream manager and by the tests on a fake clock), its bounds, and the
// adaptive widening by the delays this viewer has seen. The benches and tests
// that judge stale-stream switches read the bounds from here.
//
// A hung or partitioned host keeps its sockets open and may keep a picture
// up, but it no longer follows the log. Being late is not enough to say so:
// on a loaded box every replica shows every input late, and leaving one slow
// stream for another equally slow one only adds a switch. So a stream is
// stale on evidence from another stream: a peer shows acknowledged inputs it
// does not (relative lag), or a peer keeps presenting frames while its own
// have stopped with an acknowledged input unshown. In warm mode the viewer gets that
// evidence by resuming one standby as a probe while the shown stream is
// suspect (later than it has recently been).

import type { InputEvent } from './input.js';

/**
 * A state whose picture equals the last frame's (equal status hashes: a
 * key-up, a modifier) gets no frame of its own at once: the renderer sends the
 * last picture restamped with its seq this long after it applied, unless a
 * frame that changed the picture (stamped with a later seq) went out first.
 * While typing, that saves the key-up's frame, half of all frames, which the
 * viewer decodes, converts and composites whole. Above the interval between
 * keys at 10 keys/s, so the next key-down's frame usually covers it; below
 * STALE_LEAD_MS, so a stream that shows such an input this late is not yet
 * silent long enough to lose to a just-resumed peer (silenceForJustResumedMs).
 */
export const NEUTRAL_RESTAMP_MS = 120;

/**
 * Whether the viewer waits for a frame of an input it sent: not for a key-up,
 * whose frame the renderer defers (NEUTRAL_RESTAMP_MS) because in the apps it
 * serves it changes no picture. The stale rule and input-to-photon count only
 * the inputs that expect one; a key-up that does change the picture is still
 * drawn at once (its hash differs), it is only not waited for.
 */
export function expectsOwnFrame(event: InputEvent): boolean {
  return !(event.type === 'key' && event.action === 'up');
}

/**
 * The floor of the suspicion bound: the shown stream is suspect once an
 * acknowledged input has gone unshown this long and longer than any recent
 * delay on it (see STALE_TAIL_SAMPLES). Above this box's input-to-photon p95
 * when it is not overloaded, so a healthy stream is rarely suspect.
 */
export const STALE_SUSPECT_MS = 100;

/**
 * Relative lag: stale when a peer shows an input the shown stream has not, and
 * the shown stream has been missing an input at least this much longer than
 * the peer (and longer than its own worst recent delay, and than the peer's
 * own delay): a hiccup of one renderer is not a fault.
 */
export const STALE_LEAD_MS = 150;

/**
 * Frames stopped: stale when the shown stream has presented no frame for this
 * long (widened as below) while an acknowledged input is unshown and a peer
 * keeps presenting frames. Renderers re-send a frame every 200 ms when
 * idle and render each input, so a live one is never this silent.
 */
export const STALE_STREAM_MS = 250;

/**
 * A just-resumed stream (a warm standby renders and sends a keyframe on
 * resume) gets this long to show the acknowledged inputs before the rule
 * applies to it. For as long, as a peer, it is evidence of relative lag only
 * against a stream that has also stopped presenting frames (see
 * silenceForJustResumedMs): it rendered the current state when resumed,
 * skipping the queue of frames a stream that renders every input has in
 * flight, so on a loaded box it is ahead of any such stream at first, the
 * healthy one included.
 */
export const STALE_RESUME_GRACE_MS = 600;

/**
 * The bounds follow the delays this viewer has actually seen on the shown
 * stream. The frames-stopped bound is STALE_TAIL_FACTOR × the longest of the
 * last STALE_TAIL_SAMPLES input-to-shown delays, never below STALE_STREAM_MS
 * nor above STALE_STREAM_MAX_MS.
 */
export const STALE_TAIL_FACTOR = 1.5;
export const STALE_TAIL_SAMPLES = 64;
export const STALE_STREAM_MAX_MS = 1500;
/** Until this many delays were seen the viewer does not know the box yet: the bound is STALE_STREAM_MAX_MS. */
export const STALE_MIN_SAMPLES = 8;

/**
 * Where the viewer sees a stream's seqs: decoded video frames (the stamp), or
 * tiles drawn into the canvas (the tile display, its header). Each path has
 * stages and delays of its own, so a lead measured across paths says less
 * than one within a path (see leadBoundMs). Absent: 'video'.
 */
export type DisplayPath = 'video' | 'tiles';

/** What the viewer sees of one resumed stream at `now` (ms, one monotonic clock). */
export interface StreamFreshness {
  /** Seq decoded from its latest frame, null before one. */
  displayedSeq: number | null;
  /** How its seqs are seen; absent: 'video'. */
  path?: DisplayPath;
  /** How long the oldest acknowledged input it has not shown has been known (0: caught up). */
  behindForMs: number;
  /** When it was last resumed (null: not resumed). */
  activeSince: number | null;
  /** Its latest presented frame since that resume, null if none yet. */
  lastFrameAt: number | null;
}

export interface PeerFreshness extends StreamFreshness {
  replicaId: string;
}

export interface FreshnessInput {
  now: number;
  /** The stream judged; only a resumed stream is (a paused standby shows nothing by design). */
  shown: StreamFreshness & { active: boolean };
  /** The other resumed streams (hot standbys, a warm probe, the old stream while a switch completes). */
  peers: readonly PeerFreshness[];
  /** The longest input-to-shown delay recently seen on the shown stream, null while too few were. */
  recentWorstMs: number | null;
  /**
   * How long this viewer's oldest sent input that expects a frame has gone
   * unacknowledged (0 or absent: none outstanding). See judgeFreshness.
   */
  unackedForMs?: number;
}

export type FreshnessVerdict =
  | { state: 'fresh' }
  /** Later than usual: worth a probe, not yet a switch. */
  | { state: 'suspect'; behindForMs: number }
  | { state: 'stale'; reason: string; peerId: string };

/**
 * The lead a peer must have over the shown stream for relative lag (besides
 * the peer's own delay). Two streams seen by one path reach the viewer through
 * the same stages, so STALE_LEAD_MS, or the worst delay recently seen, tells a
 * fault from a hiccup. Across paths (the shown replica's tiles against a hot
 * standby's video) the stages differ, and the delays this viewer has sampled
 * were on one of them: while it has too few to know the box (recentWorstMs
 * null, the first seconds after a start or a switch) a lead counts only at the
 * frames-stopped cap, so a tile display warming up is not left for a video
 * that merely decodes sooner.
 */
export function leadBoundMs(recentWorstMs: number | null, samePath: boolean): number {
  if (!samePath && recentWorstMs === null) return STALE_STREAM_MAX_MS;
  return Math.max(STALE_LEAD_MS, recentWorstMs ?? 0);
}

const pathOf = (s: { path?: DisplayPath }): DisplayPath => s.path ?? 'video';

/** When the shown stream is suspect (ms behind): the floor, or every delay seen recently. */
export function suspectAfterMs(recentWorstMs: number | null): number {
  return Math.min(STALE_STREAM_MAX_MS, Math.max(STALE_SUSPECT_MS, recentWorstMs ?? 0));
}

/** The frames-stopped bound: the floor on a responsive box, widened by the worst recent delay, capped. */
export function framesStoppedAfterMs(recentWorstMs: number | null): number {
  if (recentWorstMs === null) return STALE_STREAM_MAX_MS;
  return Math.min(STALE_STREAM_MAX_MS, Math.max(STALE_STREAM_MS, STALE_TAIL_FACTOR * recentWorstMs));
}

/** A peer counts as evidence once it has presented a frame since its resume, outside its grace. */
function settledPeer(p: PeerFreshness, now: number): boolean {
  return p.activeSince !== null && p.lastFrameAt !== null && p.lastFrameAt >= p.activeSince && p.lastFrameAt <= now;
}

/** Resumed within STALE_RESUME_GRACE_MS: its first frames skipped the queue (see there). */
function justResumed(p: PeerFreshness, now: number): boolean {
  return p.activeSince !== null && now - p.activeSince < STALE_RESUME_GRACE_MS;
}

/**
 * How long the shown stream must have presented nothing for a just-resumed
 * peer's lead to count: longer than any recent delay (a hung stream is silent
 * from the fault on, so this costs its detection nothing), and while the box
 * is unknown, the frames-stopped floor.
 */
export function silenceForJustResumedMs(recentWorstMs: number | null): number {
  return Math.max(STALE_LEAD_MS, recentWorstMs ?? STALE_STREAM_MS);
}

/**
 * Suspect before any ack says so (issue 13, a partition of the server that
 * carries the inputs and homes the shown replica): the stream has presented
 * nothing, and an input sent for a frame has had no ack, both for longer than
 * the suspicion bound. Nothing acknowledged is unshown, so this is never
 * stale, only worth a probe: the warm standby is then resumed while the
 * inputs find another server, and its frames are evidence once they are
 * acknowledged there, instead of a resume started only after that.
 */
function silentWithInputUnacked(i: FreshnessInput, silentFor: number): boolean {
  const bound = suspectAfterMs(i.recentWorstMs);
  return (i.unackedForMs ?? 0) > bound && silentFor > bound;
}

export function judgeFreshness(i: FreshnessInput): FreshnessVerdict {
  const { now, shown } = i;
  if (!shown.active) return { state: 'fresh' };
  if (shown.activeSince !== null && now - shown.activeSince < STALE_RESUME_GRACE_MS) return { state: 'fresh' };
  const behind = shown.behindForMs;
  const silentFor = now - (shown.lastFrameAt ?? shown.activeSince ?? now);
  if (behind <= suspectAfterMs(i.recentWorstMs)) {
    return silentWithInputUnacked(i, silentFor) ? { state: 'suspect', behindForMs: behind } : { state: 'fresh' };
  }
  const shownSeq = shown.displayedSeq ?? 0;
  const peers = i.peers.filter((p) => settledPeer(p, now));

  // Relative lag: a peer reflects what this stream does not, by a clear lead (the least behind such peer named).
  let ahead: PeerFreshness | undefined;
  for (const p of peers) {
    if ((p.displayedSeq ?? 0) <= shownSeq) continue;
    if (justResumed(p, now) && silentFor < silenceForJustResumedMs(i.recentWorstMs)) continue;
    const bound = leadBoundMs(i.recentWorstMs, pathOf(p) === pathOf(shown));
    if (behind - p.behindForMs < Math.max(bound, p.behindForMs)) continue;
    if (!ahead || p.behindForMs < ahead.behindForMs) ahead = p;
  }
  if (ahead) {
    return {
      state: 'stale',
      peerId: ahead.replicaId,
      reason: `stale: input not shown in ${Math.round(behind)}ms, ${ahead.replicaId} shows seq ${ahead.displayedSeq ?? 0} > ${shownSeq}`,
    };
  }

  // Frames stopped: nothing presented for the bound while an input is unshown, while a peer keeps presenting.
  const bound = framesStoppedAfterMs(i.recentWorstMs);
  if (silentFor > bound) {
    const alive = peers.find((p) => now - (p.lastFrameAt ?? Number.NEGATIVE_INFINITY) < bound);
    if (alive) {
      return {
        state: 'stale',
        peerId: alive.replicaId,
        reason: `stale: no frame for ${Math.round(silentFor)}ms with an input unshown for ${Math.round(behind)}ms, ${alive.replicaId} presents frames`,
      };
    }
  }
  return { state: 'suspect', behindForMs: behind };
}

// ------------------------------------------------------------ when to judge again
//
// The viewer judges the shown stream when something is seen (a frame, an ack,
// an input sent, a session update) and otherwise only when the verdict could
// change with time alone: a timer armed for freshnessChangesAt, not a poll.

/** What the viewer knows of one resumed stream, as times (ms, one monotonic clock), so it can be judged at any later moment. */
export interface StreamClock {
  /** Seq decoded from its latest frame, null before one. */
  displayedSeq: number | null;
  /** How its seqs are seen; absent: 'video'. */
  path?: DisplayPath;
  /** Since when the oldest known input it has not shown (that should change its picture) has been known; null: caught up. */
  behindSince: number | null;
  /** When it was last resumed (null: not resumed). */
  activeSince: number | null;
  /** Its latest presented frame since that resume, null if none yet. */
  lastFrameAt: number | null;
}

export interface PeerClock extends StreamClock {
  replicaId: string;
}

export interface FreshnessClock {
  shown: StreamClock & { active: boolean };
  peers: readonly PeerClock[];
  recentWorstMs: number | null;
  /** Since when this viewer's oldest sent input that expects a frame has gone unacknowledged (null: none). */
  unackedSince: number | null;
}

const ageAt = (since: number | null, now: number): number => (since === null ? 0 : Math.max(0, now - since));

function streamAt(s: StreamClock, now: number): StreamFreshness {
  return {
    displayedSeq: s.displayedSeq,
    ...(s.path === undefined ? {} : { path: s.path }),
    behindForMs: ageAt(s.behindSince, now),
    activeSince: s.activeSince,
    lastFrameAt: s.lastFrameAt,
  };
}

/** The rule's input at `now` (judgeFreshness), the ages taken from the times. */
export function freshnessAt(c: FreshnessClock, now: number): FreshnessInput {
  return {
    now,
    shown: { ...streamAt(c.shown, now), active: c.shown.active },
    peers: c.peers.map((p) => ({ replicaId: p.replicaId, ...streamAt(p, now) })),
    recentWorstMs: c.recentWorstMs,
    unackedForMs: ageAt(c.unackedSince, now),
  };
}

/**
 * The earliest time from `now` on at which judgeFreshness(freshnessAt(c, t))
 * may give another state (or another peer) than at `now` if nothing is seen
 * meanwhile: the verdict is the same for every t in [now, result). Null: not
 * until something is seen. It follows the rule branch by branch, each bound
 * it compares an age with becoming a time: a condition `age > bound` flips
 * just after since + bound (returned as is: a check then finds the old verdict
 * and asks again for the same instant, which the caller takes a millisecond
 * later), `age >= bound` at it. Times already passed are left out.
 */
export function freshnessChangesAt(c: FreshnessClock, now: number): number | null {
  const { shown } = c;
  if (!shown.active) return null;
  if (shown.activeSince !== null && now - shown.activeSince < STALE_RESUME_GRACE_MS)
    return shown.activeSince + STALE_RESUME_GRACE_MS;
  let next = Number.POSITIVE_INFINITY;
  /** A condition that holds from t on (t itself included). */
  const at = (t: number): void => {
    if (t > now && t < next) next = t;
  };
  /** A condition that holds only after t. */
  const after = (t: number): void => {
    if (t >= now && t < next) next = t;
  };
  const worst = c.recentWorstMs;
  const suspectAt = suspectAfterMs(worst);
  // silentFor = t − silentSince (0 throughout when there is neither a frame nor a resume).
  const silentSince = shown.lastFrameAt ?? shown.activeSince;
  const result = (): number | null => (Number.isFinite(next) ? next : null);

  // Caught up, or behind for no longer than the suspicion bound: fresh, or suspect on an input unacknowledged.
  const deepAfter = shown.behindSince === null ? null : shown.behindSince + suspectAt;
  if (deepAfter === null || now <= deepAfter) {
    if (deepAfter !== null) after(deepAfter);
    if (c.unackedSince !== null && silentSince !== null) after(Math.max(c.unackedSince, silentSince) + suspectAt);
    return result();
  }

  // Behind beyond the bound from now on (behind only grows): relative lag and frames stopped.
  const behindSince = shown.behindSince ?? now;
  const shownSeq = shown.displayedSeq ?? 0;
  const framesBound = framesStoppedAfterMs(worst);
  if (silentSince !== null) {
    at(silentSince + silenceForJustResumedMs(worst));
    after(silentSince + framesBound);
  }
  for (const p of c.peers) {
    if (p.lastFrameAt !== null) {
      at(p.lastFrameAt); // settles (a frame from the future: clocks differ)
      at(p.lastFrameAt + framesBound); // no longer presenting frames within the bound
    }
    if (p.activeSince !== null) at(p.activeSince + STALE_RESUME_GRACE_MS); // no longer just resumed
    if (p.behindSince !== null) after(p.behindSince); // starts falling behind
    if ((p.displayedSeq ?? 0) <= shownSeq) continue;
    // The lead over it: grows while it is caught up; constant while it is behind too, against a bound that grows.
    at(behindSince + leadBoundMs(worst, pathOf(p) === pathOf(shown)));
    if (p.behindSince !== null) after(2 * p.behindSince - behindSince);
  }
  return result();
}
