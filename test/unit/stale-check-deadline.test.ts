// The stale check without a poll (protocol/freshness.ts freshnessChangesAt,
// viewer/probe-policy.ts nextCheckAt): the viewer judges the shown stream when
// something is seen and otherwise at the deadline these give. On a fake clock:
// every verdict a 1-ms poll finds, the event-driven check finds within a
// millisecond, hangs that nothing else reveals included; and while typing on
// a healthy box its timer fires a few times, not 25 times a second.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  freshnessAt,
  freshnessChangesAt,
  judgeFreshness,
  STALE_LEAD_MS,
  STALE_RESUME_GRACE_MS,
  STALE_SUSPECT_MS,
  type FreshnessClock,
  type FreshnessVerdict,
  type PeerClock,
} from '../../protocol/freshness.js';
import { HeadTracker } from '../../viewer/head-tracker.js';
import { StaleBound } from '../../viewer/stale-bound.js';
import { ProbePolicy } from '../../viewer/probe-policy.js';
import { prng } from '../helpers/prng.js';

const key = (v: FreshnessVerdict): string => (v.state === 'stale' ? `stale:${v.peerId}` : v.state);
const verdictAt = (c: FreshnessClock, t: number): string => key(judgeFreshness(freshnessAt(c, t)));

test('freshnessAt gives the ages the viewer computed before: behind and unacknowledged from their times', () => {
  const c: FreshnessClock = {
    shown: { displayedSeq: 4, behindSince: 900, activeSince: 0, lastFrameAt: 950, active: true },
    peers: [{ replicaId: 'b', displayedSeq: 5, behindSince: null, activeSince: 10, lastFrameAt: 990 }],
    recentWorstMs: null,
    unackedSince: 980,
  };
  const i = freshnessAt(c, 1000);
  assert.equal(i.shown.behindForMs, 100);
  assert.equal(i.peers[0]?.behindForMs, 0);
  assert.equal(i.unackedForMs, 20);
  assert.equal(freshnessAt({ ...c, unackedSince: 1200 }, 1000).unackedForMs, 0);
});

test('random states: the verdict stays what it was until the deadline, at every instant before it', () => {
  const rnd = prng(18);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;
  const time = (now: number, span: number): number => now - Math.floor(rnd() * span);
  const maybe = (now: number, span: number): number | null => (rnd() < 0.25 ? null : time(now, span));
  let changedRightAfter = 0;
  let finite = 0;
  for (let n = 0; n < 3000; n++) {
    const now = 10_000;
    const peers: PeerClock[] = [];
    for (let i = 0, k = Math.floor(rnd() * 3); i < k; i++) {
      const activeSince = time(now, 1500);
      peers.push({
        replicaId: `p${i}`,
        ...(rnd() < 0.3 ? { path: pick(['video', 'tiles'] as const) } : {}),
        displayedSeq: pick([null, 3, 5, 6, 9]),
        behindSince: rnd() < 0.5 ? null : time(now, 900),
        activeSince,
        lastFrameAt: rnd() < 0.2 ? null : activeSince + Math.floor(rnd() * (now - activeSince)),
      });
    }
    const activeSince = rnd() < 0.1 ? null : time(now, 2500);
    const c: FreshnessClock = {
      shown: {
        ...(rnd() < 0.3 ? { path: pick(['video', 'tiles'] as const) } : {}),
        displayedSeq: pick([null, 3, 5, 6]),
        behindSince: maybe(now, 900),
        activeSince,
        lastFrameAt: rnd() < 0.2 ? null : time(now, 1200),
        active: rnd() < 0.95,
      },
      peers,
      recentWorstMs: pick([null, 40, 120, 300, 900]),
      unackedSince: maybe(now, 700),
    };
    const before = verdictAt(c, now);
    const until = freshnessChangesAt(c, now);
    const end = until ?? now + 5000;
    assert.ok(end >= now, 'no deadline in the past');
    for (let t = now; t < end; t += t < end - 2 ? 0.5 + Math.floor(rnd() * 7) : 0.25) {
      assert.equal(verdictAt(c, t), before, `state ${n}: ${before} until ${until}, but ${verdictAt(c, t)} at ${t}`);
    }
    if (until !== null) {
      finite++;
      if (verdictAt(c, until + 1) !== before) changedRightAfter++;
    }
  }
  // The deadlines are the rule's own bounds, not a poll in disguise: most of them do change the verdict.
  assert.ok(finite > 500, `${finite} finite deadlines`);
  assert.ok(changedRightAfter > finite * 0.5, `${changedRightAfter} of ${finite} deadlines change the verdict`);
});

/** Renderers re-send their last frame this often when idle. */
const KEEPALIVE_MS = 200;

interface SimStream {
  id: string;
  delay: (seq: number) => number;
  stopsAt?: number;
  displayedSeq: number;
  lastFrameAt: number | null;
}

/**
 * Integer-ms world: an input sent every `keyMs` while typing (until `typeUntil`), acknowledged `ackMs` later
 * (then known to the head tracker from its send); each stream presents what is acknowledged after its delay,
 * or its last picture again after KEEPALIVE_MS; stream 0 is shown, all resumed since 0 (hot standbys, or a probe).
 */
class World {
  readonly heads = new HeadTracker();
  readonly bound = new StaleBound();
  readonly streams: SimStream[];
  t = 0;
  #sampled = 0;
  #acked = 0;

  constructor(
    readonly keyMs: number,
    readonly ackMs: number,
    readonly typeUntil: number,
    streams: Array<Omit<SimStream, 'displayedSeq' | 'lastFrameAt'>>,
  ) {
    this.streams = streams.map((s) => ({ ...s, displayedSeq: 0, lastFrameAt: null }));
  }

  sentAt(seq: number): number {
    return seq * this.keyMs;
  }

  get sent(): number {
    return Math.floor(Math.min(this.t, this.typeUntil) / this.keyMs);
  }

  /** One ms on; true when something was seen (an input sent or acknowledged, a frame). */
  step(): boolean {
    const t = ++this.t;
    let seen = t <= this.typeUntil && t % this.keyMs === 0;
    while (this.#acked < this.sent && this.sentAt(this.#acked + 1) + this.ackMs <= t) {
      this.#acked++;
      this.heads.note(this.#acked, this.sentAt(this.#acked));
      seen = true;
    }
    for (const s of this.streams) {
      if (s.stopsAt !== undefined && t >= s.stopsAt) continue;
      let presented = false;
      while (s.displayedSeq < this.heads.head && this.sentAt(s.displayedSeq + 1) + s.delay(s.displayedSeq + 1) <= t) {
        s.displayedSeq++;
        presented = true;
      }
      if (presented || s.lastFrameAt === null || t - s.lastFrameAt >= KEEPALIVE_MS) {
        s.lastFrameAt = t;
        seen = true;
      }
    }
    const shown = this.streams[0];
    if (shown && shown.displayedSeq > this.#sampled) {
      const since = this.heads.knownSince(this.#sampled + 1);
      this.#sampled = shown.displayedSeq;
      if (since !== null && shown.lastFrameAt !== null) this.bound.note(shown.lastFrameAt - since);
    }
    return seen;
  }

  clock(): FreshnessClock {
    const [shown, ...peers] = this.streams.map((s) => ({
      replicaId: s.id,
      displayedSeq: s.displayedSeq,
      behindSince: this.heads.behindSince(s.displayedSeq),
      activeSince: 0,
      lastFrameAt: s.lastFrameAt,
    }));
    assert.ok(shown);
    const unacked = this.#acked < this.sent ? this.sentAt(this.#acked + 1) : null;
    return { shown: { ...shown, active: true }, peers, recentWorstMs: this.bound.worstMs, unackedSince: unacked };
  }
}

interface Run {
  /** (time, verdict) at every change, as seen by each way of checking. */
  polled: Array<[number, string]>;
  driven: Array<[number, string]>;
  /** Checks the event-driven way ran because its timer fired (nothing seen then). */
  timerChecks: number;
}

/** The same world checked two ways: every ms, and on what is seen plus at freshnessChangesAt (as the viewer does). */
function run(make: () => World, untilMs: number): Run {
  const polled: Array<[number, string]> = [];
  const a = make();
  while (a.t < untilMs) {
    a.step();
    const v = verdictAt(a.clock(), a.t);
    if (polled.at(-1)?.[1] !== v) polled.push([a.t, v]);
  }
  const driven: Array<[number, string]> = [];
  const b = make();
  let timerAt: number | null = null;
  let timerChecks = 0;
  while (b.t < untilMs) {
    const seen = b.step();
    const fired = timerAt !== null && b.t >= timerAt;
    if (!seen && !fired) continue;
    if (fired && !seen) timerChecks++;
    const c = b.clock();
    const v = verdictAt(c, b.t);
    if (driven.at(-1)?.[1] !== v) driven.push([b.t, v]);
    const next = freshnessChangesAt(c, b.t);
    timerAt = next === null ? null : b.t + Math.max(1, Math.ceil(next - b.t));
  }
  return { polled, driven, timerChecks };
}

/** Every change the poll saw, the event-driven check saw too, at most 1 ms later, and nothing else. */
function assertSameVerdicts(r: Run): void {
  assert.equal(r.driven.length, r.polled.length, `changes ${JSON.stringify(r.driven)} vs ${JSON.stringify(r.polled)}`);
  r.polled.forEach(([at, v], i) => {
    const d = r.driven[i];
    assert.ok(d && d[1] === v, `change ${i}: ${JSON.stringify(d)} vs [${at}, ${v}]`);
    assert.ok(d[0] >= at && d[0] <= at + 1, `change ${i} (${v}) seen at ${d[0]}, the poll at ${at}`);
  });
}

const quick = (salt: number) => (seq: number) => 30 + ((seq * 13 + salt * 7) % 30);
const loaded = (salt: number) => (seq: number) => 300 + ((seq * 37 + salt * 53) % 150);

test('a hang while typing: the event-driven check sees every verdict the 1-ms poll sees, as soon (±1 ms)', () => {
  const r = run(
    () =>
      new World(100, 5, 20_000, [
        { id: 'a', delay: quick(0), stopsAt: 8_003 },
        { id: 'b', delay: quick(1) },
        { id: 'c', delay: quick(2) },
      ]),
    12_000,
  );
  assert.ok(
    r.polled.some(([, v]) => v.startsWith('stale')),
    'the hang is stale',
  );
  assertSameVerdicts(r);
});

test('a hang found by nothing but time: the last ack and the peers’ frames came before the stream is stale', () => {
  // One input, acknowledged; the peers show it and then only send keepalives; the shown stream stopped first.
  const r = run(
    () =>
      new World(1000, 5, 1000, [
        { id: 'a', delay: quick(0), stopsAt: 900 },
        { id: 'b', delay: () => 20 },
      ]),
    3000,
  );
  const stale = r.polled.find(([, v]) => v.startsWith('stale'));
  assert.ok(stale, `stale at all: ${JSON.stringify(r.polled)}`);
  // Relative lag: the peer shows seq 1 from 1020, the shown stream misses it since its send at 1000, bounds unknown.
  assert.equal(stale[0], 1000 + STALE_LEAD_MS);
  assertSameVerdicts(r);
  assert.ok(r.timerChecks >= 1, 'found by the timer');
});

test('equal lag under load and a quick healthy box: same verdicts as the poll, and the timer rarely fires', () => {
  for (const [name, delay] of [
    ['loaded', loaded],
    ['quick', quick],
  ] as const) {
    const r = run(
      () =>
        new World(100, 5, 25_000, [
          { id: 'a', delay: delay(0) },
          { id: 'b', delay: delay(1) },
          { id: 'c', delay: delay(2) },
        ]),
      30_000,
    );
    assertSameVerdicts(r);
    assert.ok(!r.polled.some(([, v]) => v.startsWith('stale')), `${name}: no false stale`);
    // A poll every 40 ms is 750 checks in 30 s; the deadlines that are not overtaken by a frame are far fewer.
    if (name === 'quick') assert.ok(r.timerChecks < 30, `${name}: ${r.timerChecks} timer checks in 30 s`);
  }
});

test('resume grace and a silent stream with an input unacknowledged: deadlines end the grace and start the suspicion', () => {
  const shownResumedAt = 1000;
  const c: FreshnessClock = {
    shown: { displayedSeq: 3, behindSince: null, activeSince: shownResumedAt, lastFrameAt: 1100, active: true },
    peers: [],
    recentWorstMs: null,
    unackedSince: 1700,
  };
  assert.equal(freshnessChangesAt(c, 1200), shownResumedAt + STALE_RESUME_GRACE_MS);
  // After the grace: suspect just after the unacknowledged input and the silence both pass the bound.
  assert.equal(freshnessChangesAt(c, 1650), 1700 + STALE_SUSPECT_MS);
  assert.equal(verdictAt(c, 1800), 'fresh');
  assert.equal(verdictAt(c, 1800.5), 'suspect');
  // Suspect already, caught up: nothing more can change until something is seen.
  assert.equal(freshnessChangesAt(c, 1900), null);
  assert.equal(freshnessChangesAt({ ...c, unackedSince: null }, 1650), null);
});

test('probe policy: a hold, a linger and an expiry each end at their deadline with nothing else seen', () => {
  const p = new ProbePolicy({ lingerMs: 100, maxMs: 5000, holdStepMs: 150, holdMaxMs: 400, cooldownMs: 2000 });
  // A false alarm first (probe presented, shown fresh for the linger): the next probe waits for the hold.
  assert.equal(p.check({ now: 0, shown: 'suspect', probePresented: false }), 'start');
  p.started('b', 0);
  assert.equal(p.nextCheckAt(), 5000, 'expiry');
  assert.equal(p.check({ now: 50, shown: 'fresh', probePresented: true }), null);
  assert.equal(p.nextCheckAt(), 150, 'the linger');
  assert.equal(p.check({ now: 150, shown: 'fresh', probePresented: true }), 'end');
  assert.equal(p.holdMs, 150);
  assert.equal(p.nextCheckAt(), null, 'fresh and no probe: nothing due');
  assert.equal(p.check({ now: 1000, shown: 'suspect', probePresented: false }), null);
  assert.equal(p.nextCheckAt(), 1150, 'the hold');
  assert.equal(p.check({ now: 1149, shown: 'suspect', probePresented: false }), null);
  assert.equal(p.check({ now: 1150, shown: 'suspect', probePresented: false }), 'start');
  assert.equal(p.nextCheckAt(), null, 'a start due waits for the caller');
  // A probe that never presents a frame expires, then the cooldown is a deadline of its own.
  p.started('c', 1150);
  assert.equal(p.check({ now: 6150, shown: 'suspect', probePresented: false }), 'end');
  assert.equal(p.check({ now: 6200, shown: 'suspect', probePresented: false }), null);
  assert.equal(p.nextCheckAt(), 8150, 'the cooldown');
});

test('the lead over a peer that is behind too: the verdict leaves stale when that peer’s own delay catches up', () => {
  const c: FreshnessClock = {
    shown: { displayedSeq: 1, behindSince: 1000, activeSince: 0, lastFrameAt: 990, active: true },
    peers: [{ replicaId: 'b', displayedSeq: 2, behindSince: 1200, activeSince: 0, lastFrameAt: 1390 }],
    recentWorstMs: null,
    unackedSince: null,
  };
  // Lead 200 ≥ 150 while b's own delay (t − 1200) ≤ 200: stale until 1400, suspect after (frames-stopped waits 1.5 s).
  assert.equal(verdictAt(c, 1395), 'stale:b');
  const until = freshnessChangesAt(c, 1395);
  assert.equal(until, 1400);
  assert.equal(verdictAt(c, 1400), 'stale:b');
  assert.equal(verdictAt(c, 1400.5), 'suspect');
});
