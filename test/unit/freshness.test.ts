// The stale-stream rule (protocol/freshness.ts) on a fake clock: a typist's
// acknowledged inputs, streams that show each one after their own delay (or
// stop), and the viewer's head tracker and delay history as the viewer feeds them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  expectsOwnFrame,
  judgeFreshness,
  leadBoundMs,
  NEUTRAL_RESTAMP_MS,
  STALE_LEAD_MS,
  STALE_RESUME_GRACE_MS,
  STALE_STREAM_MAX_MS,
  STALE_STREAM_MS,
  STALE_SUSPECT_MS,
  silenceForJustResumedMs,
  type FreshnessVerdict,
  type PeerFreshness,
} from '../../protocol/freshness.js';
import { NO_MODS } from '../../protocol/input.js';
import { HeadTracker } from '../../viewer/head-tracker.js';
import { StaleBound } from '../../viewer/stale-bound.js';

/** Renderers re-send their last frame this often when idle. */
const KEEPALIVE_MS = 200;

interface SimStream {
  id: string;
  /** ms from an input's send to its frame being presented. */
  delay: (seq: number) => number;
  /** From this time on the stream presents nothing (a hang, a cut link). */
  stopsAt?: number;
  /** From this time on its frames show nothing newer (a replica that stopped applying, still re-sending). */
  stuckAt?: number;
  displayedSeq: number;
  lastFrameAt: number | null;
}

/** Inputs acknowledged every `keyMs`; each stream presents them after its delay. */
class Sim {
  readonly heads = new HeadTracker();
  readonly bound = new StaleBound();
  readonly streams: SimStream[];
  t = 0;
  #sampled = 0;

  constructor(
    readonly keyMs: number,
    streams: Array<Omit<SimStream, 'displayedSeq' | 'lastFrameAt'>>,
  ) {
    this.streams = streams.map((s) => ({ ...s, displayedSeq: 0, lastFrameAt: null }));
  }

  sentAt(seq: number): number {
    return seq * this.keyMs;
  }

  step(dt: number): void {
    this.t += dt;
    const t = this.t;
    if (t % this.keyMs === 0) this.heads.note(t / this.keyMs, t);
    for (const s of this.streams) {
      if (s.stopsAt !== undefined && t >= s.stopsAt) continue;
      const frozen = s.stuckAt !== undefined && t >= s.stuckAt;
      let presented = false;
      while (!frozen && s.displayedSeq < this.heads.head) {
        const next = s.displayedSeq + 1;
        if (this.sentAt(next) + s.delay(next) > t) break;
        s.displayedSeq = next;
        presented = true;
      }
      if (presented || s.lastFrameAt === null || t - s.lastFrameAt >= KEEPALIVE_MS) s.lastFrameAt = t;
    }
    // The viewer notes the shown stream's delays (stream 0 is shown).
    const shown = this.streams[0];
    if (shown && shown.displayedSeq > this.#sampled) {
      const since = this.heads.knownSince(this.#sampled + 1);
      this.#sampled = shown.displayedSeq;
      if (since !== null && shown.lastFrameAt !== null) this.bound.note(shown.lastFrameAt - since);
    }
  }

  view(s: SimStream): PeerFreshness {
    return {
      replicaId: s.id,
      displayedSeq: s.displayedSeq,
      behindForMs: this.heads.behindForMs(s.displayedSeq, this.t),
      activeSince: -60_000,
      lastFrameAt: s.lastFrameAt,
    };
  }

  /** Stream 0 judged against the others (all resumed: hot standbys or a warm probe). */
  judge(peers = this.streams.slice(1)): FreshnessVerdict {
    const shown = this.streams[0];
    assert.ok(shown);
    return judgeFreshness({
      now: this.t,
      shown: { ...this.view(shown), active: true },
      peers: peers.map((p) => this.view(p)),
      recentWorstMs: this.bound.worstMs,
    });
  }
}

/** A loaded box: every input late by 300–450 ms, varying per stream and input. */
const loaded = (salt: number) => (seq: number) => 300 + ((seq * 37 + salt * 53) % 150);
/** A responsive box: 30–60 ms. */
const quick = (salt: number) => (seq: number) => 30 + ((seq * 13 + salt * 7) % 30);

test('equal lag under load: every stream shows every input late, nobody is stale', () => {
  const sim = new Sim(50, [
    { id: 'a', delay: loaded(0) },
    { id: 'b', delay: loaded(1) },
    { id: 'c', delay: loaded(2) },
  ]);
  let suspect = 0;
  while (sim.t < 30_000) {
    sim.step(10);
    const v = sim.judge();
    assert.notEqual(v.state, 'stale', `a false switch at t=${sim.t}: ${v.state === 'stale' ? v.reason : ''}`);
    if (v.state === 'suspect') suspect++;
  }
  // The bound follows the box: after the first delays are seen, late is the norm, not a suspicion.
  assert.ok(suspect < 300, `suspect ${suspect} of 3000 checks`);
});

test('equal lag under load with one stream only: late alone is never stale', () => {
  const sim = new Sim(50, [{ id: 'a', delay: (seq) => 200 + ((seq * 97) % 1400) }]);
  while (sim.t < 20_000) {
    sim.step(10);
    assert.notEqual(sim.judge().state, 'stale', `t=${sim.t}`);
  }
});

test('one stream stops while the others reflect the inputs: stale within the lead bound of the first unshown input', () => {
  const hangAt = 15_003;
  const sim = new Sim(50, [
    { id: 'a', delay: quick(0), stopsAt: hangAt },
    { id: 'b', delay: quick(1) },
    { id: 'c', delay: quick(2) },
  ]);
  let caught: { at: number; v: FreshnessVerdict } | null = null;
  while (sim.t < 20_000 && !caught) {
    sim.step(10);
    const v = sim.judge();
    if (v.state === 'stale') caught = { at: sim.t, v };
    else if (sim.t < hangAt) assert.equal(v.state, 'fresh', `t=${sim.t}`);
  }
  assert.ok(caught, 'the hang is caught');
  assert.equal(caught.v.state === 'stale' && caught.v.peerId !== 'a', true);
  // The first input never shown was sent right after the hang; the rule needs a lead of STALE_LEAD_MS over a peer
  // that shows it (its own delay ≤ 60 ms).
  const firstUnshown = sim.sentAt((sim.streams[0]?.displayedSeq ?? 0) + 1);
  const after = caught.at - firstUnshown;
  assert.ok(
    after >= STALE_LEAD_MS && after <= STALE_LEAD_MS + 60 + 10,
    `caught ${after} ms after the first unshown input`,
  );
});

test('one stream falls behind (its host starved) while its frames keep coming: stale on relative lag', () => {
  const sim = new Sim(50, [
    { id: 'a', delay: (seq) => (seq * 50 > 10_000 ? 40 + (seq * 50 - 10_000) / 2 : 40) },
    { id: 'b', delay: quick(1) },
  ]);
  let caughtAt: number | null = null;
  while (sim.t < 15_000 && caughtAt === null) {
    sim.step(10);
    if (sim.judge().state === 'stale') caughtAt = sim.t;
  }
  assert.ok(caughtAt !== null && caughtAt > 10_000 && caughtAt < 10_800, `caught at ${caughtAt}`);
});

test('frames stopped: nothing presented since an acknowledged input, while a peer keeps presenting frames', () => {
  // The peer lags as far (it shows no newer input), but it is alive: its frames keep coming.
  const hangAt = 12_001;
  const sim = new Sim(50, [
    { id: 'a', delay: quick(0), stopsAt: hangAt },
    { id: 'b', delay: quick(1), stuckAt: hangAt },
  ]);
  let caught: FreshnessVerdict | null = null;
  let at = 0;
  while (sim.t < 16_000 && !caught) {
    sim.step(10);
    const v = sim.judge();
    if (v.state === 'stale') {
      caught = v;
      at = sim.t;
    }
  }
  assert.ok(caught?.state === 'stale', 'caught');
  assert.match(caught.reason, /no frame/);
  assert.ok(at - hangAt <= STALE_STREAM_MAX_MS + 100, `caught ${at - hangAt} ms after`);
  // Both stopped (the box, or the viewer, is frozen): no evidence against either.
  const both = new Sim(50, [
    { id: 'a', delay: quick(0), stopsAt: hangAt },
    { id: 'b', delay: quick(1), stopsAt: hangAt },
  ]);
  while (both.t < 16_000) {
    both.step(10);
    assert.notEqual(both.judge().state, 'stale', `t=${both.t}`);
  }
});

test('a stream behind longer than usual with no peer resumed is suspect (probe a standby), never stale', () => {
  const sim = new Sim(50, [{ id: 'a', delay: quick(0), stopsAt: 10_001 }]);
  let suspectAt: number | null = null;
  while (sim.t < 14_000) {
    sim.step(10);
    const v = sim.judge([]);
    assert.notEqual(v.state, 'stale');
    if (v.state === 'suspect' && suspectAt === null) suspectAt = sim.t;
  }
  // Suspect once an input has gone unshown longer than every recent delay (≤ 60 ms here) and the floor.
  assert.ok(suspectAt !== null && suspectAt - 10_050 <= STALE_SUSPECT_MS + 10, `suspect at ${suspectAt}`);
});

test('a just-resumed stream, a paused one and a caught-up one are fresh; a peer counts only with a frame since its resume', () => {
  const base = { displayedSeq: 5, behindForMs: 5000, lastFrameAt: 99_990 };
  const peer: PeerFreshness = { replicaId: 'b', displayedSeq: 50, behindForMs: 0, activeSince: 0, lastFrameAt: 99_995 };
  const judge = (shown: Partial<Parameters<typeof judgeFreshness>[0]['shown']>, peers = [peer]) =>
    judgeFreshness({
      now: 100_000,
      shown: { ...base, activeSince: 0, active: true, ...shown },
      peers,
      recentWorstMs: 50,
    }).state;
  assert.equal(judge({}), 'stale');
  assert.equal(judge({ activeSince: 100_000 - STALE_RESUME_GRACE_MS + 1 }), 'fresh');
  assert.equal(judge({ activeSince: 100_000 - STALE_RESUME_GRACE_MS }), 'stale');
  assert.equal(judge({ active: false }), 'fresh');
  assert.equal(judge({ behindForMs: 0 }), 'fresh');
  // A probe whose first frame has not come yet (its last frame is from before the resume) is no evidence.
  assert.equal(judge({}, [{ ...peer, activeSince: 99_996 }]), 'suspect');
  assert.equal(judge({}, [{ ...peer, lastFrameAt: null }]), 'suspect');
});

test('a just-resumed probe ahead of a backlogged but presenting stream is no evidence; against a silent one it is', () => {
  // A loaded box at 720p: the shown stream presents a frame every 50 ms, each 500 ms after its input; the warm probe,
  // resumed 200 ms ago, rendered the current state at once and shows three inputs more.
  const now = 100_000;
  const probe: PeerFreshness = {
    replicaId: 'b',
    displayedSeq: 12,
    behindForMs: 20,
    activeSince: now - 200,
    lastFrameAt: now - 10,
  };
  const judge = (lastFrameAt: number, peer = probe, recentWorstMs: number | null = 120) =>
    judgeFreshness({
      now,
      shown: { displayedSeq: 9, behindForMs: 560, activeSince: 0, lastFrameAt, active: true },
      peers: [peer],
      recentWorstMs,
    });
  assert.equal(judge(now - 20).state, 'suspect', 'presenting: slow, not stale');
  assert.equal(judge(now - STALE_LEAD_MS + 1).state, 'suspect');
  const stopped = judge(now - STALE_LEAD_MS);
  assert.ok(stopped.state === 'stale' && stopped.reason.startsWith('stale: input not shown'), 'silent: stale');
  // Silent for longer than any recent delay, or while the box is unknown, the frames-stopped floor.
  assert.equal(silenceForJustResumedMs(400), 400);
  assert.equal(judge(now - 399, probe, 400).state, 'suspect');
  assert.equal(judge(now - STALE_STREAM_MS + 1, probe, null).state, 'suspect');
  assert.equal(judge(now - STALE_STREAM_MS, probe, null).state, 'stale');
  // Once past its grace the probe shows the box's own delays, and its lead counts whether or not frames come.
  const settledProbe = { ...probe, activeSince: now - STALE_RESUME_GRACE_MS };
  assert.equal(judge(now - 20, settledProbe).state, 'stale');
});

/**
 * A typist pressing keys (down, then up at once) every `keyMs`, as the viewer
 * notes them: its key-ups are picture-neutral (expectsOwnFrame). Each stream
 * shows a key-down after its delay and a key-up only by a later frame: the next
 * key-down's, or its own restamp NEUTRAL_RESTAMP_MS after it applied.
 */
function pressSim(keyMs: number, delays: Array<(n: number) => number>, hang?: { stream: number; at: number }) {
  const heads = new HeadTracker();
  const streams = delays.map(() => ({ displayedSeq: 0, lastFrameAt: null as number | null }));
  const down = (n: number) => 2 * n + 1;
  const downAt = (n: number) => n * keyMs;
  return {
    heads,
    streams,
    downAt,
    step(t: number, keys: number): void {
      if (t % keyMs === 0 && t / keyMs < keys) {
        const n = t / keyMs;
        heads.note(
          down(n),
          t,
          !expectsOwnFrame({ type: 'key', action: 'down', key: 'a', code: 'KeyA', mods: NO_MODS }),
        );
        heads.note(
          down(n) + 1,
          t,
          !expectsOwnFrame({ type: 'key', action: 'up', key: 'a', code: 'KeyA', mods: NO_MODS }),
        );
      }
      streams.forEach((s, i) => {
        if (hang && hang.stream === i && t >= hang.at) return;
        const delay = delays[i] ?? (() => 0);
        let presented = false;
        for (let n = 0; n < keys && downAt(n) <= t; n++) {
          // Its key-down's frame, then (if no key-down followed in time) the key-up's restamp.
          if (downAt(n) + delay(n) <= t && s.displayedSeq < down(n)) {
            s.displayedSeq = down(n);
            presented = true;
          }
          const next = n + 1 < keys ? downAt(n + 1) : Number.POSITIVE_INFINITY;
          if (next - downAt(n) > NEUTRAL_RESTAMP_MS && downAt(n) + delay(n) + NEUTRAL_RESTAMP_MS <= t) {
            if (s.displayedSeq < down(n) + 1) {
              s.displayedSeq = down(n) + 1;
              presented = true;
            }
          }
        }
        if (presented || s.lastFrameAt === null || t - s.lastFrameAt >= KEEPALIVE_MS) s.lastFrameAt = t;
      });
    },
    judge(t: number, shown = 0, recentWorstMs: number | null = 60): FreshnessVerdict {
      const view = (i: number): PeerFreshness => ({
        replicaId: String(i),
        displayedSeq: streams[i]?.displayedSeq ?? 0,
        behindForMs: heads.behindForMs(streams[i]?.displayedSeq ?? 0, t),
        activeSince: -60_000,
        lastFrameAt: streams[i]?.lastFrameAt ?? null,
      });
      return judgeFreshness({
        now: t,
        shown: { ...view(shown), active: true },
        peers: streams
          .map((_, i) => i)
          .filter((i) => i !== shown)
          .map(view),
        recentWorstMs,
      });
    },
  };
}

test('key-ups get no frame of their own: while typing and after the last key the shown stream is never suspect', () => {
  const sim = pressSim(100, [quick(0), quick(1)]);
  for (let t = 0; t < 12_000; t += 10) {
    sim.step(t, 100);
    const v = sim.judge(t);
    assert.equal(v.state, 'fresh', `t=${t}: ${JSON.stringify(v)}`);
  }
  // The last key-up was restamped once nothing followed it.
  assert.equal(sim.streams[0]?.displayedSeq, 200);
});

test('key-ups excused: a stream that hangs right after showing a key-down is caught on the next key-down', () => {
  // It hangs 5 ms after key 50's key-down was shown; the typist goes on.
  const hangAt = 50 * 100 + 45;
  const sim = pressSim(100, [() => 35, quick(1)], { stream: 0, at: hangAt });
  let caught: number | null = null;
  for (let t = 0; t < 12_000 && caught === null; t += 10) {
    sim.step(t, 100);
    const v = sim.judge(t);
    if (v.state === 'stale') caught = t;
    else if (t < hangAt) assert.equal(v.state, 'fresh', `t=${t}`);
  }
  assert.ok(caught !== null, 'caught');
  // Measured from key 51's key-down (the first input that should have changed the picture).
  const after = caught - sim.downAt(51);
  assert.ok(after >= STALE_LEAD_MS && after <= STALE_LEAD_MS + 70, `caught ${after} ms after key 51`);
});

test('the key-up deferral sits between the typing interval and the lead bound', () => {
  // Above 100 ms (10 keys/s), so the next key-down's frame covers a key-up; below STALE_LEAD_MS, so a stream
  // showing a neutral input that late is never silent long enough to lose to a just-resumed peer.
  assert.ok(NEUTRAL_RESTAMP_MS > 100);
  assert.ok(NEUTRAL_RESTAMP_MS < STALE_LEAD_MS);
  assert.ok(NEUTRAL_RESTAMP_MS < silenceForJustResumedMs(null));
  assert.equal(expectsOwnFrame({ type: 'key', action: 'up', key: 'a', code: 'KeyA', mods: NO_MODS }), false);
  assert.equal(expectsOwnFrame({ type: 'key', action: 'down', key: 'a', code: 'KeyA', mods: NO_MODS }), true);
});

test('silent with an input unacknowledged (its server cut off): suspect, to probe a standby; never stale on that alone', () => {
  const judge = (o: { now: number; lastFrameAt: number; unackedForMs: number; recentWorstMs?: number | null }) =>
    judgeFreshness({
      now: o.now,
      shown: { displayedSeq: 40, behindForMs: 0, activeSince: -60_000, lastFrameAt: o.lastFrameAt, active: true },
      // A hot standby presenting frames, caught up with every acknowledged input: evidence of nothing yet.
      peers: [{ replicaId: 'p', displayedSeq: 40, behindForMs: 0, activeSince: -60_000, lastFrameAt: o.now - 5 }],
      recentWorstMs: o.recentWorstMs ?? 60,
      unackedForMs: o.unackedForMs,
    });
  const bound = STALE_SUSPECT_MS;
  // Frames stopped and the input sent has had no ack, both past the bound: suspect.
  assert.deepEqual(judge({ now: 1000, lastFrameAt: 1000 - bound - 1, unackedForMs: bound + 1 }), {
    state: 'suspect',
    behindForMs: 0,
  });
  // Frames still coming (a slow ack on a live server): fresh.
  assert.equal(judge({ now: 1000, lastFrameAt: 990, unackedForMs: 5 * bound }).state, 'fresh');
  // Silent but nothing outstanding (idle typist, renderer between keep-alives): fresh.
  assert.equal(judge({ now: 1000, lastFrameAt: 1000 - 3 * bound, unackedForMs: 0 }).state, 'fresh');
  // Within the bound: fresh.
  assert.equal(judge({ now: 1000, lastFrameAt: 1000 - bound, unackedForMs: bound }).state, 'fresh');
  // On a box whose delays run long, the bound is theirs.
  assert.equal(judge({ now: 1000, lastFrameAt: 700, unackedForMs: 300, recentWorstMs: 400 }).state, 'fresh');
  assert.equal(judge({ now: 1000, lastFrameAt: 590, unackedForMs: 410, recentWorstMs: 400 }).state, 'suspect');
  // A stream just resumed is given its grace whatever is outstanding.
  const resumed = judgeFreshness({
    now: 1000,
    shown: { displayedSeq: 40, behindForMs: 0, activeSince: 900, lastFrameAt: null, active: true },
    peers: [],
    recentWorstMs: 60,
    unackedForMs: 500,
  });
  assert.equal(resumed.state, 'fresh');
});

test('across display paths (tiles shown, hot standbys on video) a lead counts at the cap until the box is known', () => {
  // The shown replica's tiles are drawn later than a standby's video is decoded: 400 ms behind it, nothing hung.
  const at = (path: 'video' | 'tiles', recentWorstMs: number | null): FreshnessVerdict =>
    judgeFreshness({
      now: 10_000,
      shown: { path, displayedSeq: 7, behindForMs: 420, activeSince: 0, lastFrameAt: 9_990, active: true },
      peers: [
        { replicaId: 'b', displayedSeq: 9, behindForMs: 20, activeSince: 0, lastFrameAt: 9_995 },
        { replicaId: 'c', path: 'video', displayedSeq: 9, behindForMs: 30, activeSince: 0, lastFrameAt: 9_995 },
      ],
      recentWorstMs,
    });
  // Same path, box unknown: the lead of 400 ms over STALE_LEAD_MS is evidence, as before.
  assert.equal(at('video', null).state, 'stale');
  // Tiles against video with too few delays seen: not yet (the cap is STALE_STREAM_MAX_MS).
  assert.equal(at('tiles', null).state, 'suspect');
  assert.equal(leadBoundMs(null, false), STALE_STREAM_MAX_MS);
  // Once this viewer has sampled its delays, the usual bound applies across paths too.
  const v = at('tiles', 60);
  assert.equal(v.state, 'stale');
  assert.equal(v.state === 'stale' && v.peerId, 'b', 'the least behind peer is named');
  assert.equal(leadBoundMs(60, false), STALE_LEAD_MS);
  assert.equal(leadBoundMs(300, true), 300);
  // A tile display that really stopped is still caught across paths while the box is unknown, by the cap.
  const hung = judgeFreshness({
    now: 10_000,
    shown: { path: 'tiles', displayedSeq: 7, behindForMs: 1_600, activeSince: 0, lastFrameAt: 8_300, active: true },
    peers: [{ replicaId: 'b', displayedSeq: 40, behindForMs: 20, activeSince: 0, lastFrameAt: 9_995 }],
    recentWorstMs: null,
  });
  assert.equal(hung.state, 'stale');
});

test('a peer on the shown stream path qualifies even when a less behind peer on another path does not', () => {
  const v = judgeFreshness({
    now: 10_000,
    shown: { path: 'tiles', displayedSeq: 7, behindForMs: 420, activeSince: 0, lastFrameAt: 9_990, active: true },
    peers: [
      { replicaId: 'video-peer', displayedSeq: 9, behindForMs: 10, activeSince: 0, lastFrameAt: 9_995 },
      { replicaId: 'tile-peer', path: 'tiles', displayedSeq: 9, behindForMs: 40, activeSince: 0, lastFrameAt: 9_995 },
    ],
    recentWorstMs: null,
  });
  assert.equal(v.state === 'stale' && v.peerId, 'tile-peer');
});
