// Issue 13 (input route livelock after a server kill under load): a viewer's
// InputSender + InputRoute against two fake servers that behave like the
// sequencer over one etcd log — group commit (one batch in flight per server),
// the contiguous clientSeq check against the log as read when a batch starts
// ("skips ahead; expected N" → conflict), idempotent appends, and commits that
// slow down when both servers write the same session at once (etcd compare
// retries). Commits take longer than INPUT_RESEND_AFTER_MS: a slow-but-alive
// cluster. Every typed input must end acknowledged exactly once, dense, in order.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { InputRoute } from '../../viewer/input-route.js';
import { InputSender, type InputRequest } from '../../viewer/input-sender.js';
import { ViewerRequestError } from '../../viewer/request-error.js';
import { INPUT_RESEND_AFTER_MS } from '../../protocol/server-routing.js';
import type { InputAck } from '../../protocol/signalling.js';
import { getLogger } from '../../protocol/logger.js';
import { errorReply } from '../../server/request-dispatch.js';
import { DurabilityError, OutOfOrderError } from '../../server/errors.js';
import { fakeTimers } from '../helpers/fake-timers.js';
import { clockedSender } from '../helpers/clocked-sender.js';
import { keyDown } from '../helpers/key-input.js';

const A = 'http://10.0.0.1:3000';
const B = 'http://10.0.0.2:3000';

interface Req {
  req: InputRequest;
  resolve: (a: InputAck) => void;
  reject: (e: unknown) => void;
}

function slowCluster(opts: { commitMs: number; perInputMs: number; contentionMs: number; pings?: boolean }) {
  const clock = fakeTimers();
  /** clientSeq → seq: the shared log (hole-free per client, like the etcd log). */
  const log = new Map<number, number>();
  let lastClientSeq = 0;
  const servers = new Map<string, { queue: Req[]; busy: boolean; received: number; refused: number }>();
  for (const s of [A, B]) servers.set(s, { queue: [], busy: false, received: 0, refused: 0 });
  const route = new InputRoute();
  route.setUsable([A, B], 0);
  let flips = 0;

  const startBatch = (name: string): void => {
    const srv = servers.get(name);
    if (!srv || srv.busy || srv.queue.length === 0) return;
    const batch = srv.queue.splice(0);
    // The contiguity check against the log as read now (the sequencer's checkClientSeqs).
    let last = lastClientSeq;
    const accepted: Req[] = [];
    for (const r of batch) {
      const cs = r.req.clientSeq;
      if (cs > last + 1) {
        srv.refused++;
        r.reject(
          new ViewerRequestError('conflict', `clientSeq ${cs} skips ahead; expected ${last + 1}`, {
            clientSeq: cs,
            expected: last + 1,
          }),
        );
        continue;
      }
      if (cs > last) last = cs;
      accepted.push(r);
    }
    if (accepted.length === 0) return startBatch(name);
    srv.busy = true;
    const othersBusy = [...servers.values()].filter((o) => o !== srv && o.busy).length;
    clock.schedule(
      () => {
        for (const r of accepted) {
          const cs = r.req.clientSeq;
          const prev = log.get(cs);
          if (prev !== undefined) {
            r.resolve({ seq: prev, duplicate: true });
            continue;
          }
          const seq = log.size + 1;
          log.set(cs, seq);
          lastClientSeq = Math.max(lastClientSeq, cs);
          r.resolve({ seq, duplicate: false });
        }
        srv.busy = false;
        startBatch(name);
      },
      // Each input costs its reads (a replay two serial gets), and a concurrent writer of the same keys a retry.
      opts.commitMs + accepted.length * opts.perInputMs + othersBusy * opts.contentionMs,
    );
  };

  const { sender, acked } = clockedSender(clock, {
    transmit: (req) =>
      new Promise<InputAck>((resolve, reject) => {
        const name = route.current ?? A;
        const srv = servers.get(name);
        if (!srv) return reject(new ViewerRequestError('unavailable', 'no server'));
        srv.received++;
        srv.queue.push({ req, resolve, reject });
        // Requests of one event-loop turn go into one batch.
        clock.schedule(() => startBatch(name), 0);
      }),
    // The servers are alive: a ping (no commit in it) is answered at once.
    ...(opts.pings ? { pingRoute: () => new Promise<void>((r) => clock.schedule(r, 2)) } : {}),
    reroute: () => {
      const moved = route.switchAway(clock.now) !== null;
      if (moved) flips++;
      return moved;
    },
  });

  return {
    sender,
    log,
    acked,
    servers,
    get flips() {
      return flips;
    },
    get now() {
      return clock.now;
    },
    /** Moves the fake clock in small steps, letting promise callbacks run between them. */
    async run(ms: number, step = 10) {
      for (let t = 0; t < ms; t += step) {
        clock.advance(step);
        await new Promise((r) => setImmediate(r));
      }
    },
  };
}

describe('InputSender under a slow-but-alive cluster (issue 13 livelock)', () => {
  for (const pings of [false, true])
    it(`typed inputs are all acknowledged, once each, dense, without the route flapping${pings ? ' (route pinged)' : ''}`, async () => {
      const c = slowCluster({ commitMs: INPUT_RESEND_AFTER_MS + 100, perInputMs: 20, contentionMs: 700, pings });
      const typed = 28;
      // Typed at ~20 keys/s while commits take longer than the resend bound.
      for (let i = 0; i < typed; i++) {
        c.sender.send(keyDown(String.fromCharCode(97 + (i % 26))));
        await c.run(50);
      }
      let waited = 0;
      while (c.sender.stats().pending > 0 && waited < 20_000) {
        await c.run(100);
        waited += 100;
      }
      const stats = c.sender.stats();
      const refused = [...c.servers.values()].reduce((n, s) => n + s.refused, 0);
      const received = [...c.servers.values()].reduce((n, s) => n + s.received, 0);
      const detail = `pending ${stats.pending} after ${c.now} ms, ${c.flips} flips, ${refused} refused, ${received} received`;
      if (process.env.LIVELOCK_DEBUG) console.log(detail);
      assert.equal(stats.pending, 0, `every input acknowledged: ${detail}`);
      assert.deepEqual(
        c.acked.map((a) => a.clientSeq),
        Array.from({ length: typed }, (_, i) => i + 1),
        'each acknowledged once, in typing order',
      );
      assert.deepEqual(
        [...c.log.entries()].sort((x, y) => x[1] - y[1]).map(([cs]) => cs),
        Array.from({ length: typed }, (_, i) => i + 1),
        'dense seqs, in clientSeq order',
      );
      // A server that answers keeps the route: a few moves at most, not one per 400 ms.
      assert.ok(c.flips <= 3, `route flips: ${detail}`);
      // No resend storm: bounded copies per input.
      assert.ok(received <= typed * 4, `copies sent: ${detail}`);
    });
});

describe('InputSender out-of-order refusal', () => {
  it('resends from the server’s `expected` at once, through the same server, and does not move the route', async () => {
    const clock = fakeTimers();
    const route = new InputRoute();
    route.setUsable([A, B], 0);
    const sent: Array<{ server: string; clientSeq: number } & Req> = [];
    let saved = 0;
    const sender = new InputSender({
      sessionId: 's1',
      transmit: (req) =>
        new Promise<InputAck>((resolve, reject) =>
          sent.push({ server: route.current ?? '?', clientSeq: req.clientSeq, req, resolve, reject }),
        ),
      reroute: () => route.switchAway(clock.now) !== null,
      loadSeq: () => saved,
      saveSeq: (s) => (saved = s),
      now: () => clock.now,
      schedule: clock.schedule,
    });
    sender.resync(0);
    for (const ch of 'abc') sender.send(keyDown(ch));
    sent[0]?.resolve({ seq: 1, duplicate: false });
    const refuse = (i: number) =>
      sent[i]?.reject(new ViewerRequestError('conflict', 'skips ahead; expected 2', { expected: 2 }));
    refuse(1);
    refuse(2);
    await new Promise((r) => setImmediate(r));
    clock.advance(10);
    assert.deepEqual(
      sent.slice(3).map((s) => [s.server, s.clientSeq]),
      [
        [A, 2],
        [A, 3],
      ],
      'once, in order, from expected, through A',
    );
    assert.equal(route.current, A, 'a refusal is an answer: the route stays');
    sent[3]?.resolve({ seq: 2, duplicate: false });
    sent[4]?.resolve({ seq: 3, duplicate: false });
    await new Promise((r) => setImmediate(r));
    assert.equal(sender.stats().pending, 0);
    // A server that keeps refusing cannot make a hot loop: the resends back off.
    sender.send(keyDown('d'));
    const before = sent.length;
    for (let i = 0; i < 20; i++) {
      sent.at(-1)?.reject(new ViewerRequestError('conflict', 'skips ahead; expected 4', { expected: 4 }));
      await new Promise((r) => setImmediate(r));
      clock.advance(10);
    }
    assert.ok(sent.length - before <= 8, `resends in 200 ms of refusals: ${sent.length - before}`);
    sender.dispose();
  });
});

describe('errorReply (how a refusal reaches the viewer)', () => {
  it('an out-of-order refusal carries `expected` on the wire; other contexts stay on the server', () => {
    const log = getLogger('test-dispatch');
    const refused = errorReply(
      new OutOfOrderError('clientSeq 9 skips ahead; expected 4', { sessionId: 's', clientId: 'c', expected: 4 }),
      log,
      'input',
    );
    assert.deepEqual(refused, {
      ok: false,
      error: { code: 'conflict', message: 'clientSeq 9 skips ahead; expected 4', details: { expected: 4 } },
    });
    const other = errorReply(new DurabilityError('no quorum', { sessions: ['s'] }), log, 'input');
    assert.deepEqual(other, { ok: false, error: { code: 'unavailable', message: 'no quorum' } });
    const bogus = errorReply(new OutOfOrderError('x', { expected: 'soon' }), log, 'input');
    assert.deepEqual(bogus, { ok: false, error: { code: 'conflict', message: 'x' } });
  });
});
