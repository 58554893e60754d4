// The input route's liveness pings (viewer/route-liveness.ts) with the
// viewer's InputSender and InputRoute, on a fake clock, against fake servers
// sharing one idempotent log: each commits after its own delay and answers
// pings after its own (a ping needs no commit), or, cut off, answers nothing.
// A cut-off route is left within a ping's bound; a server that is slow to
// commit but answers pings is not left, nor flooded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputRoute } from '../../viewer/input-route.js';
import type { InputAck } from '../../protocol/signalling.js';
import {
  INPUT_RESEND_MAX_MS,
  INPUT_RESEND_MIN_SAMPLES,
  ROUTE_PING_AFTER_MIN_MS,
  ROUTE_PING_WAIT_UNKNOWN_MS,
} from '../../protocol/server-routing.js';
import { fakeTimers } from '../helpers/fake-timers.js';
import { clockedSender } from '../helpers/clocked-sender.js';
import { keyDown } from '../helpers/key-input.js';
import { RouteLiveness } from '../../viewer/route-liveness.js';
import { ResendPolicy } from '../../viewer/resend-policy.js';

const A = 'http://10.0.0.1:3000';
const B = 'http://10.0.0.2:3000';

interface FakeServer {
  commitMs: number;
  pingMs: number;
  /** Answers nothing (a partition): requests and pings are never answered. */
  cut: boolean;
  /** Commits nothing (its etcd is gone) but still answers pings. */
  stuck: boolean;
  received: number;
}

function cluster() {
  const clock = fakeTimers();
  const log = new Map<number, number>();
  const servers = new Map<string, FakeServer>();
  for (const s of [A, B]) servers.set(s, { commitMs: 20, pingMs: 3, cut: false, stuck: false, received: 0 });
  const route = new InputRoute();
  route.setUsable([A, B], 0);
  const pings: string[] = [];
  const srv = (): [string, FakeServer] => {
    const name = route.current ?? A;
    const s = servers.get(name);
    assert.ok(s);
    return [name, s];
  };
  const { sender, acked } = clockedSender(clock, {
    transmit: (req) =>
      new Promise<InputAck>((resolve) => {
        const [, s] = srv();
        s.received++;
        if (s.cut || s.stuck) return;
        clock.schedule(() => {
          if (s.cut || s.stuck) return;
          const prev = log.get(req.clientSeq);
          if (prev !== undefined) return resolve({ seq: prev, duplicate: true });
          const seq = log.size + 1;
          log.set(req.clientSeq, seq);
          resolve({ seq, duplicate: false });
        }, s.commitMs);
      }),
    pingRoute: () =>
      new Promise<void>((resolve) => {
        const [name, s] = srv();
        pings.push(name);
        if (s.cut) return;
        clock.schedule(() => {
          if (!s.cut) resolve();
        }, s.pingMs);
      }),
    reroute: () => route.switchAway(clock.now) !== null,
  });
  return {
    sender,
    route,
    servers,
    pings,
    log,
    acked,
    get now() {
      return clock.now;
    },
    server: (name: string): FakeServer => {
      const s = servers.get(name);
      assert.ok(s);
      return s;
    },
    /** Moves the fake clock in 1 ms steps, letting promise callbacks run between them. */
    async run(ms: number) {
      for (let t = 0; t < ms; t++) {
        clock.advance(1);
        await new Promise((r) => setImmediate(r));
      }
    },
    /** Types a key every `everyMs` for `n` keys. */
    async type(n: number, everyMs = 50) {
      for (let i = 0; i < n; i++) {
        sender.send(keyDown(String.fromCharCode(97 + (i % 26))));
        await this.run(everyMs);
      }
    },
  };
}

describe('input route liveness pings', () => {
  it('healthy fast acks: no ping is sent at all', async () => {
    const c = cluster();
    await c.type(30);
    assert.equal(c.pings.length, 0);
    assert.equal(c.acked.length, 30);
  });

  it('a cut-off server is left once its ping goes unanswered, well before the 400 ms ack bound', async () => {
    const c = cluster();
    await c.type(2 * INPUT_RESEND_MIN_SAMPLES);
    c.server(A).cut = true;
    const cutAt = c.now;
    c.sender.send(keyDown('x'));
    let movedAt: number | null = null;
    for (let t = 0; t < 1000 && movedAt === null; t++) {
      await c.run(1);
      if (c.route.current === B) movedAt = c.now;
    }
    assert.ok(movedAt !== null, 'moved');
    const after = movedAt - cutAt;
    // Pinged once x waited past 2 × the acks' p50 (20 ms: the 50 ms floor), left when the ping had no answer.
    assert.ok(after <= ROUTE_PING_AFTER_MIN_MS + ROUTE_PING_WAIT_UNKNOWN_MS + 2, `moved ${after} ms after the cut`);
    assert.ok(after >= ROUTE_PING_AFTER_MIN_MS + ROUTE_PING_WAIT_UNKNOWN_MS - 2, `not before the ping bound: ${after}`);
    await c.run(100);
    assert.deepEqual(
      c.acked.map((a) => a.clientSeq),
      Array.from({ length: 2 * INPUT_RESEND_MIN_SAMPLES + 1 }, (_, i) => i + 1),
      'x acknowledged through B, each input once',
    );
  });

  it('with ping round trips known, the bound is theirs (2 × their p99, floor 100 ms)', async () => {
    const c = cluster();
    // Slow commits for a while (pings go out and are answered in 3 ms), then fast again.
    c.server(A).commitMs = 150;
    await c.type(20);
    assert.ok(c.pings.length >= INPUT_RESEND_MIN_SAMPLES, `pings so far ${c.pings.length}`);
    c.server(A).commitMs = 20;
    await c.type(70);
    c.server(A).cut = true;
    const cutAt = c.now;
    c.sender.send(keyDown('y'));
    for (let t = 0; t < 1000 && c.route.current === A; t++) await c.run(1);
    const after = c.now - cutAt;
    // Pinged after 2 × p50 of the acks (the 50 ms floor here), left 100 ms later: the ping wait's floor.
    assert.ok(after <= ROUTE_PING_AFTER_MIN_MS + 100 + 2, `moved ${after} ms after the cut`);
    assert.equal(c.route.current, B);
  });

  it('a healthy but slow server (commits of 700 ms, pings answered) is neither left nor flooded', async () => {
    const c = cluster();
    await c.type(2 * INPUT_RESEND_MIN_SAMPLES);
    c.server(A).commitMs = 700;
    const typed = 20;
    const before = c.server(A).received;
    await c.type(typed);
    await c.run(1500);
    assert.equal(c.route.current, A, 'no move');
    assert.equal(c.server(B).received, 0, 'nothing sent elsewhere');
    assert.equal(c.server(A).received - before, typed, 'each input sent once');
    assert.equal(c.sender.stats().pending, 0);
    // Pings while inputs wait: about one per PING_EVERY_MS, not one per input per tick.
    assert.ok(c.pings.length < 2 + (typed * 50 + 1500) / 50, `pings ${c.pings.length}`);
  });

  it('a server that answers pings but commits nothing is left after the ack cap', async () => {
    const c = cluster();
    await c.type(2 * INPUT_RESEND_MIN_SAMPLES);
    c.server(A).stuck = true;
    const at = c.now;
    c.sender.send(keyDown('z'));
    for (let t = 0; t < 3 * INPUT_RESEND_MAX_MS && c.route.current === A; t += 10) await c.run(10);
    const after = c.now - at;
    assert.equal(c.route.current, B);
    assert.ok(after >= INPUT_RESEND_MAX_MS && after <= INPUT_RESEND_MAX_MS + 20, `left after ${after} ms`);
    await c.run(100);
    assert.equal(c.sender.stats().pending, 0);
  });

  it('an ack that leaves nothing in flight cancels the armed check: no timer fires while typing goes well', () => {
    const clock = fakeTimers();
    let fired = 0;
    let inFlightSince: number | null = null;
    const policy = new ResendPolicy();
    const liveness = new RouteLiveness({
      ping: () => new Promise(() => undefined),
      now: () => clock.now,
      schedule: (fn, ms) =>
        clock.schedule(() => {
          fired++;
          fn();
        }, ms),
      policy,
      oldestInFlightSince: () => inFlightSince,
      lastAnswerAt: () => clock.now,
      onDead: () => assert.fail('the route is alive'),
    });
    for (let i = 0; i < 100; i++) {
      inFlightSince = clock.now; // a key goes out...
      liveness.poke();
      clock.advance(5);
      inFlightSince = null; // ...and is acknowledged 5 ms later
      liveness.poke();
      clock.advance(95);
    }
    assert.equal(fired, 0);
    assert.equal(liveness.pings, 0);
    // An input still waiting keeps its check: it fires and pings.
    inFlightSince = clock.now;
    liveness.poke();
    clock.advance(policy.pingAfterMs() + 1);
    assert.equal(fired, 1);
    assert.equal(liveness.pings, 1);
  });
});
