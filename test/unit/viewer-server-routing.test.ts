// The viewer's pure parts for talking to several servers (issue 13 point 5):
// the server list with its bounded backoff, the input route, the resend of
// unacknowledged inputs through another server on a fake clock, and the merge
// of the replica lists every server reports.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ServerList, serverOrigin } from '../../viewer/server-list.js';
import { InputRoute } from '../../viewer/input-route.js';
import { mergeSessions, viewerIdFor } from '../../viewer/replica-merge.js';
import { parseServerListing } from '../../viewer/session-links.js';
import { InputSender, type InputAckedEvent, type InputRequest } from '../../viewer/input-sender.js';
import {
  INPUT_RESEND_AFTER_MS,
  INPUT_RESEND_MIN_MS,
  INPUT_RESEND_MIN_SAMPLES,
  INPUT_RESEND_RTT_FACTOR,
  SERVER_RETRY_MAX_MS,
  SERVER_RETRY_MIN_MS,
} from '../../protocol/server-routing.js';
import type { InputAck } from '../../protocol/signalling.js';
import { NO_MODS } from '../../protocol/input.js';
import type { ReplicaInfo, SessionInfo } from '../../protocol/session.js';
import { fakeTimers } from '../helpers/fake-timers.js';
import { keyDown } from '../helpers/key-input.js';

const A = 'http://10.0.0.1:3000';
const B = 'http://10.0.0.2:3000';
const C = 'http://10.0.0.3:3000';

describe('ServerList', () => {
  it('keeps the page server first, follows the registry, and normalises to origins', () => {
    const list = new ServerList(`${A}/`);
    assert.deepEqual(list.urls(), [A]);
    const first = list.update([`${B}/some/path`, C, 'ftp://10.0.0.9/', 'not a url', A]);
    assert.deepEqual(first, { added: [B, C], removed: [] });
    assert.deepEqual(list.urls(), [A, B, C]);
    // B left the registry; A is not listed but stays (the page came from it).
    assert.deepEqual(list.update([C]), { added: [], removed: [B] });
    assert.deepEqual(list.urls(), [A, C]);
    assert.equal(serverOrigin('javascript:alert(1)'), null);
  });

  it('tells servers apart by id: the page server listed under another URL is not a second server', () => {
    const page = 'http://127.0.0.1:3000';
    const list = new ServerList(page);
    // Before the page's server said who it is, its advertised URL looks like another server …
    assert.deepEqual(
      list.update([
        { id: 'a', url: A },
        { id: 'b', url: B },
      ]).added,
      [A, B],
    );
    // … once it has, that entry is the page's origin: the stray URL is dropped, nothing is added twice.
    list.setOriginId('a');
    assert.deepEqual(
      list.update([
        { id: 'a', url: A },
        { id: 'b', url: B },
      ]),
      { added: [], removed: [A] },
    );
    assert.deepEqual(list.urls(), [page, B]);
    assert.deepEqual(
      list.update([
        { id: 'b', url: B },
        { id: 'a', url: 'http://lan-name:3000' },
      ]).added,
      [],
    );
    assert.deepEqual(list.urls(), [page, B]);
  });

  it('skips a failing server for a doubling while, bounded, and takes it back once it answers', () => {
    const list = new ServerList(A);
    list.update([B]);
    let now = 1000;
    list.noteFailure(B, now);
    assert.deepEqual(list.due(now), [A], 'B is skipped right after failing');
    assert.deepEqual(list.due(now + SERVER_RETRY_MIN_MS), [A, B], 'and due again after the first backoff');
    const waits: number[] = [];
    for (let i = 0; i < 12; i++) {
      now += 10;
      list.noteFailure(B, now);
      let t = now;
      while (!list.isDue(B, t)) t += 1;
      waits.push(t - now);
    }
    assert.equal(waits[0], SERVER_RETRY_MIN_MS * 2);
    assert.equal(waits[1], SERVER_RETRY_MIN_MS * 4);
    assert.ok(
      waits.every((w, i) => i === 0 || w >= (waits[i - 1] ?? 0)),
      `non-decreasing: ${waits.join(',')}`,
    );
    assert.equal(Math.max(...waits), SERVER_RETRY_MAX_MS, 'bounded');
    list.noteSuccess(B);
    assert.equal(list.failures(B), 0);
    assert.deepEqual(list.due(now), [A, B]);
    // An unknown server's failure is ignored.
    list.noteFailure(C, now);
    assert.deepEqual(list.urls(), [A, B]);
  });
});

describe('InputRoute', () => {
  it('prefers the first usable server, moves away from one that failed, and avoids it for a while', () => {
    const route = new InputRoute({ suspectMs: 5000 });
    assert.equal(route.current, null);
    route.setUsable([A, B, C], 0);
    assert.equal(route.current, A);
    assert.equal(route.switchAway(100), B);
    assert.equal(route.current, B);
    // B fails too: C, not A (still suspect).
    assert.equal(route.switchAway(200), C);
    // C fails: both others are suspect; A's time is up first but the rule is simply "not suspect, else any other".
    assert.equal(route.switchAway(300), A);
    // A dropped out (its socket died): the route leaves it even without a timeout.
    route.setUsable([B, C], 400);
    assert.equal(route.current, B);
    // A comes back: the route stays where it is (a move would only risk reordering).
    route.setUsable([A, B, C], 500);
    assert.equal(route.current, B);
  });

  it('alone there is nowhere to go: switchAway says so and the route stays', () => {
    const route = new InputRoute();
    route.setUsable([A], 0);
    assert.equal(route.switchAway(10), null);
    assert.equal(route.current, A);
    route.setUsable([], 20);
    assert.equal(route.current, null);
  });
});

const key = keyDown;

interface Sent {
  server: string;
  req: InputRequest;
  resolve: (a: InputAck) => void;
  reject: (e: unknown) => void;
}

/**
 * A viewer's InputSender over InputRoute with fake servers that share one
 * idempotent log (what the etcd log does: the same (client, seq) through two
 * servers is logged once), a fake clock and timer queue.
 */
function cluster(servers: string[]) {
  const clock = fakeTimers();
  const sent: Sent[] = [];
  const log = new Map<number, { seq: number; text: string }>();
  const route = new InputRoute();
  route.setUsable(servers, 0);
  const acked: InputAckedEvent[] = [];
  let saved = 0;
  const sender = new InputSender({
    sessionId: 's1',
    transmit: (req) =>
      new Promise((resolve, reject) => sent.push({ server: route.current ?? '?', req, resolve, reject })),
    reroute: () => route.switchAway(clock.now) !== null,
    loadSeq: () => saved,
    saveSeq: (s) => (saved = s),
    now: () => clock.now,
    schedule: clock.schedule,
  });
  sender.on('acked', (a) => acked.push(a));
  sender.resync(0);
  /** The server logs (idempotently) and answers one request. */
  const answer = (s: Sent): void => {
    const prev = log.get(s.req.clientSeq);
    if (prev) {
      s.resolve({ seq: prev.seq, duplicate: true });
      return;
    }
    const entry = { seq: log.size + 1, text: s.req.event.type === 'key' ? (s.req.event.text ?? '') : '' };
    log.set(s.req.clientSeq, entry);
    s.resolve({ seq: entry.seq, duplicate: false });
  };
  return {
    sender,
    route,
    sent,
    log,
    acked,
    get now() {
      return clock.now;
    },
    advance: clock.advance,
    /** Answers every request sent to `server` so far (it logs them). */
    async answerAll(server: string) {
      for (const s of sent.filter((x) => x.server === server)) answer(s);
      await new Promise((r) => setImmediate(r));
    },
    /** `server` logs what it got but its answers are lost (it died after the commit). */
    logSilently(server: string) {
      for (const s of sent.filter((x) => x.server === server)) answer({ ...s, resolve: () => undefined });
    },
    text: () =>
      [...log.values()]
        .sort((a, b) => a.seq - b.seq)
        .map((e) => e.text)
        .join(''),
  };
}

describe('InputSender resend through another server', () => {
  it('an input without an ack in time goes again, in order, through the next server, same clientSeq', async () => {
    const c = cluster([A, B]);
    for (const ch of 'abc') c.sender.send(key(ch));
    assert.deepEqual(
      c.sent.map((s) => [s.server, s.req.clientSeq]),
      [
        [A, 1],
        [A, 2],
        [A, 3],
      ],
    );
    c.advance(INPUT_RESEND_AFTER_MS - 1);
    assert.equal(c.sent.length, 3, 'nothing resent before the bound');
    assert.equal(c.sender.stats().acked, 0);
    c.advance(1);
    assert.equal(c.route.current, B);
    assert.deepEqual(
      c.sent.slice(3).map((s) => [s.server, s.req.clientSeq, s.req.event.type === 'key' && s.req.event.text]),
      [
        [B, 1, 'a'],
        [B, 2, 'b'],
        [B, 3, 'c'],
      ],
    );
    await c.answerAll(B);
    assert.deepEqual(
      c.acked.map((a) => a.clientSeq),
      [1, 2, 3],
      'acked in order, each once',
    );
    assert.equal(c.sender.stats().pending, 0);
    // A answers late (it was only slow): nothing is acknowledged twice, the log holds each once.
    await c.answerAll(A);
    assert.equal(c.acked.length, 3);
    assert.equal(c.sender.stats().acked, 3);
    assert.equal(c.text(), 'abc');
    // Later inputs stay on B.
    c.sender.send(key('d'));
    assert.equal(c.sent.at(-1)?.server, B);
  });

  it('a server that logged inputs and died before answering: the resend is a duplicate, nothing doubles', async () => {
    const c = cluster([A, B]);
    for (const ch of 'xy') c.sender.send(key(ch));
    c.logSilently(A);
    c.sender.send(key('z')); // sent to A after its death: never logged there
    c.advance(INPUT_RESEND_AFTER_MS);
    await c.answerAll(B);
    assert.deepEqual(
      c.acked.map((a) => [a.clientSeq, a.duplicate]),
      [
        [1, true],
        [2, true],
        [3, false],
      ],
    );
    assert.equal(c.text(), 'xyz', 'every key exactly once, in typing order');
  });

  it('only inputs still unacknowledged are resent, and resendInFlight moves them at once', async () => {
    const c = cluster([A, B, C]);
    for (const ch of 'pq') c.sender.send(key(ch));
    const first = c.sent[0];
    assert.ok(first);
    first.resolve({ seq: 1, duplicate: false });
    c.log.set(1, { seq: 1, text: 'p' });
    await new Promise((r) => setImmediate(r));
    // A's socket dropped: the caller moved the route and asks for the resend without waiting for the bound.
    c.route.setUsable([B, C], c.now);
    c.sender.resendInFlight();
    assert.deepEqual(
      c.sent.slice(2).map((s) => [s.server, s.req.clientSeq]),
      [[B, 2]],
    );
    await c.answerAll(B);
    assert.equal(c.text(), 'pq');
    assert.equal(c.sender.stats().pending, 0);
  });

  it('never shows an input acknowledged that no server acknowledged', async () => {
    const c = cluster([A, B]);
    c.sender.send(key('n'));
    for (let i = 0; i < 10; i++) c.advance(INPUT_RESEND_AFTER_MS);
    await new Promise((r) => setImmediate(r));
    assert.equal(c.acked.length, 0);
    assert.equal(c.sender.stats().acked, 0);
    assert.equal(c.sender.stats().highestAckedSeq, 0);
    assert.equal(c.sender.stats().pending, 1);
    assert.ok(c.sent.length >= 2, 'it kept trying');
    assert.ok(
      c.sent.every((s) => s.req.clientSeq === 1),
      'always the same clientSeq',
    );
    await c.answerAll(B);
    assert.equal(c.acked.length, 1);
  });

  it('with one server (single-server mode) no-ack timeouts send nothing twice', async () => {
    const c = cluster([A]);
    for (const ch of 'ab') c.sender.send(key(ch));
    c.advance(INPUT_RESEND_AFTER_MS * 5);
    assert.equal(c.sent.length, 2);
    await c.answerAll(A);
    assert.equal(c.text(), 'ab');
  });
});

describe('InputSender adaptive no-ack wait (issue 13, a partitioned input server)', () => {
  /** Types `n` keys, each answered by `server` `rttMs` after it was sent. */
  async function typeAnswered(c: ReturnType<typeof cluster>, server: string, n: number, rttMs: number) {
    for (let i = 0; i < n; i++) {
      c.sender.send(key('a'));
      c.advance(rttMs);
      await c.answerAll(server);
    }
  }

  it('after healthy acks, a server that stops answering is left after a few round trips, not 400 ms', async () => {
    const c = cluster([A, B]);
    await typeAnswered(c, A, INPUT_RESEND_MIN_SAMPLES + 2, 30);
    const bound = Math.max(INPUT_RESEND_MIN_MS, INPUT_RESEND_RTT_FACTOR * 30);
    assert.ok(bound < INPUT_RESEND_AFTER_MS);
    assert.equal(c.sender.ackWaitMs, bound);
    // A is cut off: it answers nothing from now on (the next key comes a little after the last ack).
    c.advance(20);
    c.sender.send(key('x'));
    const before = c.sent.length;
    c.advance(bound - 1);
    assert.equal(c.sent.length, before, 'nothing resent before the bound');
    assert.equal(c.route.current, A);
    c.advance(1);
    assert.equal(c.route.current, B, `moved ${bound} ms after the send`);
    assert.deepEqual(
      c.sent.slice(before).map((s) => [s.server, s.req.event.type === 'key' && s.req.event.text]),
      [[B, 'x']],
    );
    await c.answerAll(B);
    assert.equal(c.sender.stats().pending, 0);
  });

  it('cut off mid-typing: the move comes one wait after its last answer, not a wait after that', async () => {
    const c = cluster([A, B]);
    await typeAnswered(c, A, INPUT_RESEND_MIN_SAMPLES + 2, 30);
    const wait = c.sender.ackWaitMs;
    c.advance(20);
    c.sender.send(key('y'));
    c.advance(20);
    c.sender.send(key('x'));
    const xAt = c.now;
    c.advance(30);
    // y's ack is A's last answer; x's never comes.
    c.sent.at(-2)?.resolve({ seq: 99, duplicate: false });
    await new Promise((r) => setImmediate(r));
    const lastAnswer = c.now;
    c.advance(wait - 31);
    assert.equal(c.route.current, A, 'x waited a whole wait, but A answered since');
    c.advance(lastAnswer + wait - 1 - c.now);
    assert.equal(c.route.current, A);
    c.advance(1);
    assert.equal(c.route.current, B, `moved ${c.now - xAt} ms after x was sent`);
  });

  it('a healthy but slow server is not left: its slow acks widen the wait', async () => {
    const c = cluster([A, B]);
    await typeAnswered(c, A, INPUT_RESEND_MIN_SAMPLES + 2, 300);
    assert.equal(c.sender.ackWaitMs, INPUT_RESEND_RTT_FACTOR * 300);
    assert.ok(c.sender.ackWaitMs > 300, 'the wait is above every round trip seen');
    // Its slowest commit yet (nearly the wait, nothing else answered meanwhile): still the route.
    c.advance(20);
    c.sender.send(key('y'));
    c.advance(c.sender.ackWaitMs - 1);
    assert.equal(c.route.current, A, 'no move');
    await c.answerAll(A);
    assert.equal(c.sender.stats().pending, 0);
    assert.ok(
      c.sent.every((s) => s.server === A),
      'every input went once, through A',
    );
    assert.equal(c.sent.length, INPUT_RESEND_MIN_SAMPLES + 3);
  });

  it('tells how long the oldest sent input has waited for its ack (key-ups expect no frame)', async () => {
    const c = cluster([A, B]);
    assert.equal(c.sender.unackedSince(), null);
    c.advance(5);
    c.sender.send({ type: 'key', action: 'up', key: 'k', code: '', mods: NO_MODS });
    assert.equal(c.sender.unackedSince(), null, 'a key-up expects no frame of its own');
    c.advance(10);
    c.sender.send(key('k'));
    assert.equal(c.sender.unackedSince(), 15);
    await c.answerAll(A);
    assert.equal(c.sender.unackedSince(), null);
  });
});

function replica(id: string, over: Partial<ReplicaInfo> = {}): ReplicaInfo {
  return {
    replicaId: id,
    sessionId: 's1',
    nodeId: `n-${id}`,
    hostId: `h-${id}`,
    state: 'live',
    producerId: `p-${id}`,
    appliedSeq: 5,
    stateHash: 'aa',
    health: { heartbeatAgeMs: 10, lagSeq: 0, producerScore: 10 },
    selection: null,
    ...over,
  };
}

function session(headSeq: number, replicas: ReplicaInfo[]): SessionInfo {
  return {
    sessionId: 's1',
    app: { name: 'writer', hash: '0123456789abcdef' },
    inputs: { keyUps: false, touch: 'text' },
    replicationFactor: 3,
    width: 640,
    height: 360,
    createdAt: 1,
    headSeq,
    replicas,
  };
}

describe('mergeSessions', () => {
  it('unions the replicas every server homes and remembers each one’s home', () => {
    const m = mergeSessions(A, [
      { url: A, session: session(7, [replica('r1')]), receivedAt: 1 },
      { url: B, session: session(9, [replica('r2'), replica('r3')]), receivedAt: 2 },
      { url: C, session: { ...session(99, [replica('x')]), sessionId: 'other' }, receivedAt: 3 },
    ]);
    assert.ok(m);
    assert.deepEqual(m.session.replicas.map((r) => r.replicaId).sort(), ['r1', 'r2@n-r2', 'r3@n-r3']);
    assert.equal(m.session.headSeq, 9, 'the highest head any server of this session reported');
    assert.deepEqual([...m.homes].sort(), [
      ['r1', A],
      ['r2@n-r2', B],
      ['r3@n-r3', B],
    ]);
    assert.equal(m.wireIds.get('r2@n-r2'), 'r2', 'requests to B name it as B does');
    assert.equal(viewerIdFor(m, B, 'r3'), 'r3@n-r3');
    assert.equal(viewerIdFor(m, A, 'r3'), undefined);
    assert.equal(mergeSessions(A, []), null);
  });

  it('two servers each homing their own “r1” (per-server names) are two replicas, kept apart', () => {
    const m = mergeSessions(A, [
      { url: A, session: session(3, [replica('s.r1', { nodeId: 'node-a' })]), receivedAt: 1 },
      { url: B, session: session(3, [replica('s.r1', { nodeId: 'node-b' })]), receivedAt: 1 },
      { url: C, session: session(3, [replica('s.r1', { nodeId: 'node-c' })]), receivedAt: 1 },
    ]);
    assert.deepEqual(
      m?.session.replicas.map((r) => r.replicaId),
      ['s.r1', 's.r1@node-b', 's.r1@node-c'],
    );
    // The page's own server gone: the others' ids stay as they were (nothing is re-consumed).
    const later = mergeSessions(A, [
      { url: B, session: session(4, [replica('s.r1', { nodeId: 'node-b' })]), receivedAt: 2 },
      { url: C, session: session(4, [replica('s.r1', { nodeId: 'node-c' })]), receivedAt: 2 },
    ]);
    assert.deepEqual(
      later?.session.replicas.map((r) => r.replicaId),
      ['s.r1@node-b', 's.r1@node-c'],
    );
  });

  it('a replica reported by two servers (its node moved home) is taken once, from the one that can stream it', () => {
    const m = mergeSessions(A, [
      { url: A, session: session(5, [replica('r1', { producerId: null })]), receivedAt: 5 },
      { url: B, session: session(5, [replica('r1')]), receivedAt: 1 },
    ]);
    assert.equal(m?.session.replicas.length, 1);
    assert.equal(m?.homes.get('r1@n-r1'), B);
    const newer = mergeSessions(A, [
      { url: B, session: session(5, [replica('r1')]), receivedAt: 1 },
      { url: C, session: session(5, [replica('r1')]), receivedAt: 2 },
    ]);
    assert.equal(newer?.homes.get('r1@n-r1'), C, 'both can: the newer report wins');
  });
});

describe('parseServerListing', () => {
  it('takes only string URLs (and string ids) from a /api/servers answer, and who answered', () => {
    assert.deepEqual(
      parseServerListing({
        servers: [{ url: A, id: 'a' }, { url: 5 }, null, { id: 'x' }, { url: B, id: 7 }],
        self: 'a',
      }),
      {
        servers: [
          { id: 'a', url: A },
          { id: null, url: B },
        ],
        self: 'a',
      },
    );
    assert.equal(parseServerListing({ servers: [] })?.self, null);
    assert.equal(parseServerListing({ servers: 'no' }), null);
    assert.equal(parseServerListing(null), null);
  });
});
