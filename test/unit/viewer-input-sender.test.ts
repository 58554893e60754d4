import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DRAINED_PERSIST_MS, InputSender, type InputRequest, type PersistedInput } from '../../viewer/input-sender.js';
import { ViewerRequestError } from '../../viewer/request-error.js';
import type { InputAck } from '../../protocol/signalling.js';
import type { InputEvent } from '../../protocol/input.js';
import { NO_MODS } from '../../protocol/input.js';
import { fakeTimers } from '../helpers/fake-timers.js';

/** A fake server: records requests, settles them when told; a fake clock and timer queue. */
function harness(startSeq = 0) {
  const clock = fakeTimers();
  let saved = startSeq;
  const requests: Array<{ req: InputRequest; resolve: (a: InputAck) => void; reject: (e: unknown) => void }> = [];
  let nextSeq = 100;
  const sender = new InputSender({
    sessionId: 's1',
    transmit: (req) => new Promise((resolve, reject) => requests.push({ req, resolve, reject })),
    loadSeq: () => saved,
    saveSeq: (s) => (saved = s),
    now: () => clock.now,
    schedule: clock.schedule,
  });
  return {
    sender,
    requests,
    get saved() {
      return saved;
    },
    advance: clock.advance,
    async ackAll() {
      for (const r of requests.splice(0)) r.resolve({ seq: ++nextSeq, duplicate: false });
      await new Promise((r) => setImmediate(r));
    },
  };
}

/** An online sender whose pending-input storage is counted: `writes` since resync, `stored` the last write. */
function storageHarness(transmit: (req: InputRequest) => Promise<InputAck>) {
  const clock = fakeTimers();
  const state = { stored: [] as PersistedInput[], writes: 0, seq: -1, seqWrites: 0 };
  const sender = new InputSender({
    sessionId: 's1',
    transmit,
    loadSeq: () => -1,
    saveSeq: (s) => {
      state.seqWrites++;
      state.seq = s;
    },
    loadPending: () => [],
    savePending: (items) => {
      state.writes++;
      state.stored = items;
    },
    now: () => clock.now,
    schedule: clock.schedule,
  });
  sender.resync(-1);
  state.writes = 0;
  state.seqWrites = 0;
  return {
    sender,
    clock,
    get stored() {
      return state.stored;
    },
    get writes() {
      return state.writes;
    },
    /** Writes of the clientSeq counter (a storage write of its own) since resync, and the last value. */
    get seqWrites() {
      return state.seqWrites;
    },
    get seq() {
      return state.seq;
    },
  };
}

const key = (k: string): InputEvent => ({
  type: 'key',
  action: 'down',
  key: k,
  code: `Key${k.toUpperCase()}`,
  text: k,
  mods: NO_MODS,
});
const move = (x: number, buttons = 0): InputEvent => ({
  type: 'pointer',
  action: 'move',
  x,
  y: 0,
  button: 0,
  buttons,
  mods: NO_MODS,
});

test('inputs wait for the join, then go out in order with increasing clientSeq', async () => {
  const h = harness();
  h.sender.send(key('a'));
  h.sender.send(key('b'));
  assert.equal(h.requests.length, 0, 'nothing before the join');
  assert.equal(h.sender.stats().pending, 2);
  h.sender.resync(0);
  assert.deepEqual(
    h.requests.map((r) => r.req.clientSeq),
    [1, 2],
  );
  await h.ackAll();
  const st = h.sender.stats();
  assert.equal(st.pending, 0);
  assert.equal(st.acked, 2);
  assert.equal(st.highestAckedSeq, 102);
  assert.equal(h.saved, 2, 'the counter is persisted');
});

test('after a reconnect, unacked inputs above lastClientSeq are resent; logged ones are dropped', async () => {
  const h = harness();
  h.sender.resync(0);
  for (const k of ['a', 'b', 'c', 'd']) h.sender.send(key(k));
  assert.equal(h.requests.length, 4);
  h.requests.splice(0); // the connection died: no acks
  h.sender.setOffline();
  h.sender.send(key('e')); // typed while offline
  assert.equal(h.requests.length, 0);
  h.sender.resync(2); // the server logged clientSeq 1 and 2
  assert.deepEqual(
    h.requests.map((r) => [r.req.clientSeq, (r.req.event as { key: string }).key]),
    [
      [3, 'c'],
      [4, 'd'],
      [5, 'e'],
    ],
  );
  await h.ackAll();
  assert.equal(h.sender.stats().pending, 0);
});

test('inputs never sent are renumbered above a lastClientSeq the viewer did not know', () => {
  const h = harness(0); // e.g. localStorage was cleared but the server remembers this client
  h.sender.send(key('x'));
  h.sender.resync(40);
  assert.equal(h.requests[0]?.req.clientSeq, 41);
  h.sender.send(key('y'));
  assert.equal(h.requests[1]?.req.clientSeq, 42);
});

test('hover moves are coalesced to ~30/s; key events are never merged or dropped', () => {
  const h = harness();
  h.sender.resync(0);
  h.sender.send(move(1)); // first move goes out at once
  for (let x = 2; x <= 10; x++) h.sender.send(move(x));
  assert.equal(h.requests.length, 1);
  h.advance(40);
  assert.equal(h.requests.length, 2);
  assert.equal((h.requests[1]?.req.event as { x: number }).x, 10, 'the latest position wins');
  for (let i = 0; i < 5; i++) h.sender.send(key(String(i)));
  assert.equal(h.requests.length, 7);
});

test('a pending hover move is flushed before a following click, keeping order', () => {
  const h = harness();
  h.sender.resync(0);
  h.sender.send(move(1));
  h.sender.send(move(5));
  h.sender.send({ type: 'pointer', action: 'down', x: 6, y: 0, button: 0, buttons: 1, mods: NO_MODS, detail: 1 });
  assert.deepEqual(
    h.requests.map((r) => (r.req.event as { action: string; x: number }).action + (r.req.event as { x: number }).x),
    ['move1', 'move5', 'down6'],
  );
});

test('drag moves (buttons held) are not coalesced', () => {
  const h = harness();
  h.sender.resync(0);
  for (let x = 0; x < 10; x++) h.sender.send(move(x, 1));
  assert.equal(h.requests.length, 10);
});

test('wheel bursts are summed, not dropped', () => {
  const h = harness();
  h.sender.resync(0);
  const wheel = (dy: number): InputEvent => ({ type: 'wheel', x: 0, y: 0, dx: 0, dy, mods: NO_MODS });
  h.sender.send(wheel(10));
  h.sender.send(wheel(20));
  h.sender.send(wheel(30));
  h.advance(40);
  const dys = h.requests.map((r) => (r.req.event as { dy: number }).dy);
  assert.equal(
    dys.reduce((a, b) => a + b, 0),
    60,
  );
  assert.ok(dys.length <= 2);
});

test('a permanently refused input is dropped and reported; a retryable failure is retried', async () => {
  const h = harness();
  h.sender.resync(0);
  const rejected: unknown[] = [];
  h.sender.on('rejected', (r) => rejected.push(r.error));
  h.sender.send(key('a'));
  h.sender.send(key('b'));
  h.requests[0]?.reject(new ViewerRequestError('bad-request', 'nope'));
  h.requests[1]?.reject(new ViewerRequestError('unavailable', 'timeout'));
  h.requests.splice(0);
  await new Promise((r) => setImmediate(r));
  assert.equal(rejected.length, 1);
  assert.equal(h.sender.stats().pending, 1);
  h.advance(10_000);
  assert.equal(h.requests.length, 1);
  assert.equal(h.requests[0]?.req.clientSeq, 2);
});

test('a second release-all in a row is not sent', () => {
  const h = harness();
  h.sender.resync(0);
  h.sender.send({ type: 'release-all' });
  h.sender.send({ type: 'release-all' });
  assert.equal(h.requests.length, 1);
});

test('after a reload lost unacked inputs, new ones continue right after the server’s lastClientSeq', () => {
  const h = harness(57); // localStorage counted to 57, but the log holds only up to 50
  h.sender.send(key('a'));
  h.sender.resync(50);
  assert.equal(h.requests[0]?.req.clientSeq, 51, 'no hole: the server requires contiguous clientSeqs');
  h.sender.send(key('b'));
  assert.equal(h.requests[1]?.req.clientSeq, 52);
});

test('an out-of-order refusal (conflict) is retried, never dropped', async () => {
  const h = harness(0);
  h.sender.resync(-1);
  h.sender.send(key('a'));
  h.sender.send(key('b'));
  // The first is rate-limited, the second refused as out of order: both must come back.
  h.requests[0]?.reject(new ViewerRequestError('rate-limited', 'slow down'));
  h.requests[1]?.reject(new ViewerRequestError('conflict', 'expected 0'));
  h.requests.splice(0);
  await new Promise((r) => setImmediate(r));
  h.advance(10_000);
  assert.deepEqual(
    h.requests.map((r) => r.req.clientSeq),
    [0, 1],
  );
  assert.equal(h.sender.stats().pending, 2);
});

test('unacknowledged inputs survive a reload: logged ones are dropped, the rest resent once', async () => {
  // First page: two inputs sent, only the first acknowledged, then the tab dies.
  let stored: PersistedInput[] = [];
  const first = new InputSender({
    sessionId: 's1',
    transmit: () => new Promise<InputAck>(() => undefined),
    loadSeq: () => -1,
    saveSeq: () => undefined,
    loadPending: () => [],
    savePending: (items) => (stored = items),
    now: () => 0,
  });
  first.resync(-1);
  first.send(key('a'));
  first.send(key('b'));
  first.send(key('c'));
  assert.deepEqual(
    stored.map((p) => [p.clientSeq, p.everSent]),
    [
      [0, true],
      [1, true],
      [2, true],
    ],
    'persisted as sent before they left',
  );
  first.dispose();

  // Second page: the server logged clientSeq 0 and 1 (the ack of 1 was lost with the tab).
  const sent: number[] = [];
  const clock = fakeTimers();
  const second = new InputSender({
    sessionId: 's1',
    transmit: (req) => {
      sent.push(req.clientSeq);
      return Promise.resolve({ seq: 100 + req.clientSeq, duplicate: false });
    },
    loadSeq: () => 2,
    saveSeq: () => undefined,
    loadPending: () => stored,
    savePending: (items) => (stored = items),
    now: () => clock.now,
    schedule: clock.schedule,
  });
  assert.equal(second.stats().pending, 3);
  second.resync(1);
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, [2], 'only "c" is resent, under its own clientSeq');
  clock.advance(DRAINED_PERSIST_MS);
  assert.deepEqual(stored, [], 'nothing left to persist once acknowledged');
});

test('typing online writes pending storage once per input and once a pause after the queue drains; a reload then resends nothing logged', async () => {
  const acks: Array<() => void> = [];
  const h = storageHarness(
    (req) =>
      new Promise<InputAck>((resolve) => acks.push(() => resolve({ seq: 10 + req.clientSeq, duplicate: false }))),
  );
  const { sender, clock } = h;
  sender.send(key('a'));
  sender.send(key('b'));
  assert.equal(h.writes, 2, 'one write per input, made before it left');
  assert.deepEqual(
    h.stored.map((p) => [p.clientSeq, p.everSent]),
    [
      [0, true],
      [1, true],
    ],
  );
  acks.shift()?.();
  await new Promise((r) => setImmediate(r));
  assert.equal(h.writes, 2, 'an ack with inputs still pending writes nothing');
  // The tab dies here: storage still lists "a" (acknowledged, logged) beside "b".
  const sent: number[] = [];
  const reloaded = new InputSender({
    sessionId: 's1',
    transmit: (req) => {
      sent.push(req.clientSeq);
      return Promise.resolve({ seq: 10 + req.clientSeq, duplicate: false });
    },
    loadSeq: () => 1,
    saveSeq: () => undefined,
    loadPending: () => h.stored,
    savePending: () => undefined,
    now: () => 0,
  });
  reloaded.resync(0); // the server logged "a" only
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(sent, [1], 'only "b" is resent; the acknowledged "a" left in storage is dropped');
  // The first page, had it lived: the last ack empties the queue, and storage a pause later.
  acks.shift()?.();
  await new Promise((r) => setImmediate(r));
  assert.equal(h.writes, 2, 'not at once: the next key would rewrite it anyway');
  clock.advance(DRAINED_PERSIST_MS - 1);
  assert.equal(h.writes, 2);
  clock.advance(1);
  assert.equal(h.writes, 3);
  assert.deepEqual(h.stored, []);
  sender.dispose();
  reloaded.dispose();
});

test('typing 10 keys/s with quick acks writes storage once per input, and empties it once after the burst', async () => {
  const h = storageHarness((req) => Promise.resolve({ seq: 10 + req.clientSeq, duplicate: false }));
  const { sender, clock } = h;
  for (let i = 0; i < 20; i++) {
    sender.send(key(String.fromCharCode(97 + i)));
    await new Promise((r) => setImmediate(r)); // acked before the next key
    assert.equal(h.stored.length, 1, 'the last input, acknowledged, stays listed until the pause: harmless');
    clock.advance(100);
  }
  assert.equal(h.writes, 20, 'one write per input, none per drain while typing');
  assert.equal(h.seqWrites, 0, 'the counter rides in the pending list: no write of its own per input');
  clock.advance(DRAINED_PERSIST_MS);
  assert.equal(h.writes, 21);
  assert.deepEqual(h.stored, [], 'emptied once the typing paused');
  assert.deepEqual([h.seqWrites, h.seq], [1, 19], 'the list no longer carries it: the counter is written then');
  // A new input's write cancels the emptying due later; so does dispose.
  sender.send(key('z'));
  await new Promise((r) => setImmediate(r));
  sender.dispose();
  clock.advance(DRAINED_PERSIST_MS);
  assert.equal(h.writes, 22, 'disposed: no write after');
});

test('a reload takes the counter from the pending list when the stored one is behind it', () => {
  // The tab died while typing: the counter is written only when the list does not carry it.
  const stored: PersistedInput[] = [
    { clientSeq: 5, event: key('a'), everSent: true },
    { clientSeq: 6, event: key('b'), everSent: true },
  ];
  const sent: InputRequest[] = [];
  let saved = 4;
  const sender = new InputSender({
    sessionId: 's1',
    transmit: (req) => {
      sent.push(req);
      return new Promise<InputAck>(() => undefined);
    },
    loadSeq: () => saved,
    saveSeq: (s) => (saved = s),
    loadPending: () => stored,
    savePending: () => undefined,
    now: () => 0,
  });
  sender.send(key('c')); // typed before the join: numbered after what is listed, not after the stored 4
  sender.resync(4); // the server logged up to 4: 5, 6 and the new one are sent, in order
  assert.deepEqual(
    sent.map((r) => [r.clientSeq, r.event.type === 'key' ? r.event.key : '']),
    [
      [5, 'a'],
      [6, 'b'],
      [7, 'c'],
    ],
  );
  sender.dispose();
});

test('when the list written no longer ends at the counter, the counter is written beside it', async () => {
  const settle: Array<{ ok: () => void; fail: (e: unknown) => void }> = [];
  const h = storageHarness(
    (req) =>
      new Promise<InputAck>((resolve, reject) =>
        settle.push({ ok: () => resolve({ seq: 10 + req.clientSeq, duplicate: false }), fail: reject }),
      ),
  );
  const { sender } = h;
  sender.send(key('a'));
  sender.send(key('b'));
  sender.send(key('c'));
  assert.equal(h.seqWrites, 0, 'each list written ends at the newest input');
  settle[2]?.ok(); // "c" acknowledged first
  settle[1]?.fail(new ViewerRequestError('bad-request', 'nope')); // "b" refused for good: the list is rewritten
  await new Promise((r) => setImmediate(r));
  assert.deepEqual(
    h.stored.map((p) => p.clientSeq),
    [0],
  );
  assert.deepEqual([h.seqWrites, h.seq], [1, 2], 'a reload must not hand out 1 or 2 again');
  sender.dispose();
});
