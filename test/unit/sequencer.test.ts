// Sequencer over a real SqliteInputLog on a temp file: ordering, group commit,
// ack-after-durable, replays, typed rejections, and survival of a SIGKILL.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';
import { NO_MODS, type InputEvent, type KeyInput, type SequencedInput } from '../../protocol/input.js';
import { openDatabase } from '../../server/database.js';
import {
  BadRequestError,
  ClosedError,
  DurabilityError,
  NotFoundError,
  OutOfOrderError,
  OutOfRangeError,
  PartialAppendError,
  UnwantedInputError,
} from '../../server/errors.js';
import { COMPACTED_SEQ, type AppendRequest, type AppendResult, type InputLog } from '../../server/input-log.js';
import { MAX_UNWANTED_TOTAL, Sequencer } from '../../server/sequencer.js';
import type { SequencerOptions, SessionBatch } from '../../server/sequencer-types.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { wantsInput } from '../../protocol/app-inputs.js';

function key(action: 'down' | 'up', ch = 'a'): KeyInput {
  return { type: 'key', action, key: ch, code: `Key${ch.toUpperCase()}`, mods: NO_MODS };
}

function move(x: number): InputEvent {
  return { type: 'pointer', action: 'move', x, y: 0, button: 0, buttons: 0, mods: NO_MODS };
}

/** The real log, with every appendBatch call recorded (sizes, and whether it has returned). */
class RecordingLog implements InputLog {
  readonly calls: number[] = [];
  inFlight = false;
  returned = 0;
  constructor(readonly inner: SqliteInputLog) {}
  async appendBatch(reqs: AppendRequest[]): Promise<AppendResult[]> {
    this.calls.push(reqs.length);
    this.inFlight = true;
    try {
      return await this.inner.appendBatch(reqs);
    } finally {
      this.inFlight = false;
      this.returned++;
    }
  }
  read(s: string, from: number, to: number, limit: number): Promise<SequencedInput[]> {
    return this.inner.read(s, from, to, limit);
  }
  headSeq(s: string): Promise<number> {
    return this.inner.headSeq(s);
  }
  lastClientSeq(s: string, c: string): Promise<number> {
    return this.inner.lastClientSeq(s, c);
  }
  putSnapshot(s: Parameters<InputLog['putSnapshot']>[0]): Promise<void> {
    return this.inner.putSnapshot(s);
  }
  latestSnapshot(s: string): ReturnType<InputLog['latestSnapshot']> {
    return this.inner.latestSnapshot(s);
  }
  snapshotAt(s: string, seq: number): ReturnType<InputLog['snapshotAt']> {
    return this.inner.snapshotAt(s, seq);
  }
  snapshotBefore(s: string, seq: number): ReturnType<InputLog['snapshotBefore']> {
    return this.inner.snapshotBefore(s, seq);
  }
  deleteSnapshots(s: string, range: Parameters<InputLog['deleteSnapshots']>[1]): Promise<number> {
    return this.inner.deleteSnapshots(s, range);
  }
  truncateThrough(s: string, upto: number): Promise<number> {
    return this.inner.truncateThrough(s, upto);
  }
  ping(): Promise<void> {
    return this.inner.ping();
  }
  close(): Promise<void> {
    return this.inner.close();
  }
}

interface Rig {
  file: string;
  log: RecordingLog;
  sequencer: Sequencer;
  emitted: SessionBatch[][];
}

function rig(t: TestContext, options: Partial<SequencerOptions> = {}, busyTimeoutMs?: number): Rig {
  const file = join(makeTmpDir(t), 'lockstep.sqlite');
  const log = new RecordingLog(SqliteInputLog.openFile(file, busyTimeoutMs === undefined ? {} : { busyTimeoutMs }));
  const sequencer = new Sequencer({ log, ...options });
  const emitted: SessionBatch[][] = [];
  sequencer.on('sequenced', (batches) => emitted.push(batches));
  t.after(async () => {
    await sequencer.close();
    await log.close();
  });
  return { file, log, sequencer, emitted };
}

const nextTurn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('Sequencer', () => {
  it('gives dense, ordered seqs per session across two sessions', async (t) => {
    const { sequencer, log } = rig(t);
    const acks: Array<Promise<AppendResult>> = [];
    const sent: Array<{ sessionId: string; clientId: string; clientSeq: number }> = [];
    const clientSeqs = new Map<string, number>();
    for (let round = 0; round < 5; round++) {
      for (let i = 0; i < 40; i++) {
        const sessionId = i % 3 === 0 ? 's2' : 's1';
        const clientId = `c${i % 4}`;
        const k = `${sessionId}/${clientId}`;
        const clientSeq = clientSeqs.get(k) ?? 0;
        clientSeqs.set(k, clientSeq + 1);
        sent.push({ sessionId, clientId, clientSeq });
        acks.push(sequencer.submit({ sessionId, clientId, clientSeq, event: move(i) }));
      }
      await nextTurn();
    }
    const results = await Promise.all(acks);
    for (const sessionId of ['s1', 's2']) {
      const seqs = results.filter((_, i) => sent[i]?.sessionId === sessionId).map((r) => r.input.seq);
      // Submission order within a session is seq order, and seqs have no gaps.
      assert.deepEqual(
        seqs,
        seqs.map((_, i) => i + 1),
      );
      assert.equal(await log.headSeq(sessionId), seqs.length);
      const stored = await log.read(sessionId, 1, 1000, 1000);
      assert.deepEqual(
        stored.map((s) => `${s.clientId}:${s.clientSeq}`),
        sent.filter((s) => s.sessionId === sessionId).map((s) => `${s.clientId}:${s.clientSeq}`),
      );
    }
    assert.ok(results.every((r) => !r.duplicate));
  });

  it('group-commits one turn of submits into one appendBatch', async (t) => {
    const { sequencer, log } = rig(t);
    const acks = Array.from({ length: 100 }, (_, i) =>
      sequencer.submit({ sessionId: 's1', clientId: `c${i % 10}`, clientSeq: Math.floor(i / 10), event: move(i) }),
    );
    assert.deepEqual(log.calls, []); // nothing written inside the submitting turn
    await Promise.all(acks);
    assert.deepEqual(log.calls, [100]);
  });

  it('flushes early when maxBatch requests are queued', async (t) => {
    const { sequencer, log } = rig(t);
    const acks = Array.from({ length: 600 }, (_, i) =>
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: i, event: move(i) }),
    );
    // The first 256 left the queue at once, without waiting for the next turn;
    // the rest is written in batches of at most maxBatch.
    assert.equal(sequencer.pending, 600 - 256);
    await Promise.all(acks);
    assert.deepEqual(log.calls, [256, 256, 88]);
  });

  it('acknowledges only after the batch is durable', async (t) => {
    const { sequencer, log, file } = rig(t);
    const observer = openDatabase(file);
    t.after(() => observer.close());
    const countRows = observer.prepare<[], { n: number }>('SELECT count(*) AS n FROM inputs');
    let acked = false;
    const ack = sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 0, event: move(1) }).then((r) => {
      acked = true;
      // At ack time the append has returned and the row is visible to another connection.
      assert.equal(log.inFlight, false);
      assert.equal(log.returned, 1);
      assert.equal(countRows.get()?.n, 1);
      return r;
    });
    for (let i = 0; i < 10; i++) await Promise.resolve(); // microtasks alone never ack
    assert.equal(acked, false);
    assert.equal(log.calls.length, 0);
    const r = await ack;
    assert.equal(r.input.seq, 1);
  });

  it('acks duplicates with the original seq and never emits them', async (t) => {
    const { sequencer, emitted } = rig(t);
    const first = await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 0, event: move(1) });
    await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 1, event: move(2) });
    emitted.length = 0;
    const [dupA, dupB, fresh] = await Promise.all([
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 0, event: move(99) }),
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 2, event: move(3) }),
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 2, event: move(3) }),
    ]);
    assert.deepEqual([dupA?.duplicate, dupA?.input], [true, first.input]);
    assert.deepEqual([dupB?.duplicate, dupB?.input.seq], [false, 3]);
    assert.deepEqual([fresh?.duplicate, fresh?.input.seq], [true, 3]);
    assert.deepEqual(
      emitted.flat().flatMap((b) => b.inputs.map((i) => i.seq)),
      [3],
    );
    // A batch of only replays emits nothing at all.
    emitted.length = 0;
    await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 1, event: move(2) });
    assert.deepEqual(emitted, []);
  });

  it('acks replays of truncated inputs as duplicates with seq -1', async (t) => {
    const { sequencer, log } = rig(t);
    await Promise.all(
      [0, 1, 2].map((clientSeq) =>
        sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq, event: move(clientSeq) }),
      ),
    );
    await log.putSnapshot({ sessionId: 's1', seq: 3, stateHash: 'h', data: Buffer.from('s') });
    await log.truncateThrough('s1', 3);
    const replay = await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 1, event: move(1) });
    assert.deepEqual([replay.duplicate, replay.input.seq], [true, COMPACTED_SEQ]);
    const next = await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 3, event: move(3) });
    assert.deepEqual([next.duplicate, next.input.seq], [false, 4]);
  });

  it('rejects out-of-range and malformed requests with typed errors, logging nothing', async (t) => {
    const { sequencer, log } = rig(t, { maxClientSeqGap: 100, sessionExists: (id) => id !== 'gone' });
    await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 0, event: move(0) });
    await assert.rejects(
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 101, event: move(1) }),
      (err: unknown) => {
        assert.ok(err instanceof OutOfRangeError);
        assert.equal(err.code, 'bad-request');
        assert.equal(err.context.lastClientSeq, 0);
        return true;
      },
    );
    // A fresh client may start anywhere within the gap, not beyond it.
    await assert.rejects(
      sequencer.submit({ sessionId: 's1', clientId: 'new', clientSeq: 100, event: move(1) }),
      OutOfRangeError,
    );
    // Queued-but-unflushed inputs count towards the client's last clientSeq.
    const queued = sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 100, event: move(1) });
    const chained = sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 200, event: move(2) });
    for (const clientSeq of [-1, 1.5, Number.NaN]) {
      await assert.rejects(
        sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq, event: move(1) }),
        BadRequestError,
      );
    }
    const bogus = { type: 'key', action: 'sideways' } as unknown as InputEvent;
    await assert.rejects(
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 201, event: bogus }),
      BadRequestError,
    );
    await assert.rejects(
      sequencer.submit({ sessionId: '', clientId: 'c', clientSeq: 1, event: move(1) }),
      BadRequestError,
    );
    await assert.rejects(
      sequencer.submit({ sessionId: 'gone', clientId: 'c', clientSeq: 0, event: move(1) }),
      NotFoundError,
    );
    assert.deepEqual([(await queued).input.seq, (await chained).input.seq], [2, 3]);
    assert.deepEqual(
      (await log.read('s1', 1, 100, 100)).map((i) => i.clientSeq),
      [0, 100, 200],
    );
    assert.equal(await log.lastClientSeq('s1', 'new'), -1);
  });

  it('emits only new inputs, grouped per session, in seq order', async (t) => {
    const { sequencer, emitted } = rig(t);
    await sequencer.submit({ sessionId: 'a', clientId: 'c', clientSeq: 0, event: move(0) });
    emitted.length = 0;
    await Promise.all([
      sequencer.submit({ sessionId: 'a', clientId: 'c', clientSeq: 1, event: move(1) }),
      sequencer.submit({ sessionId: 'b', clientId: 'c', clientSeq: 0, event: move(2) }),
      sequencer.submit({ sessionId: 'a', clientId: 'c', clientSeq: 0, event: move(0) }), // replay
      sequencer.submit({ sessionId: 'a', clientId: 'd', clientSeq: 0, event: move(3) }),
      sequencer.submit({ sessionId: 'b', clientId: 'c', clientSeq: 1, event: move(4) }),
    ]);
    assert.equal(emitted.length, 1);
    assert.deepEqual(
      emitted[0]?.map((b) => [b.sessionId, b.inputs.map((i) => `${i.seq}:${i.clientId}:${i.clientSeq}`)]),
      [
        ['a', ['2:c:1', '3:d:0']],
        ['b', ['1:c:0', '2:c:1']],
      ],
    );
  });

  it('stamps time from the injected clock, never going backwards', async (t) => {
    const times = [5000, 5001, 4000, 6000];
    const { sequencer } = rig(t, { now: () => times.shift() ?? 0 });
    const results = await Promise.all(
      [0, 1, 2, 3].map((clientSeq) =>
        sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq, event: move(clientSeq) }),
      ),
    );
    assert.deepEqual(
      results.map((r) => r.input.time),
      [5000, 5001, 5001, 6000],
    );
  });

  it('rejects the whole batch with DurabilityError when the append fails, emitting nothing', async (t) => {
    const { sequencer, log, file, emitted } = rig(t, {}, 20);
    let failures = 0;
    sequencer.on('flushFailed', () => failures++);
    // Another connection holds the write lock: the append times out with SQLITE_BUSY.
    const blocker = openDatabase(file);
    t.after(() => blocker.close());
    blocker.exec('BEGIN IMMEDIATE');
    const acks = [0, 1, 2].map((clientSeq) =>
      sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq, event: move(clientSeq) }),
    );
    const settled = await Promise.allSettled(acks);
    blocker.exec('ROLLBACK');
    for (const s of settled) {
      assert.equal(s.status, 'rejected');
      assert.ok(s.status === 'rejected' && s.reason instanceof DurabilityError);
    }
    assert.equal(failures, 1);
    assert.deepEqual(emitted, []);
    assert.equal(await log.headSeq('s'), 0);
    // Nothing was logged, so the client can resend the same clientSeqs.
    const retry = await sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq: 0, event: move(0) });
    assert.deepEqual([retry.duplicate, retry.input.seq], [false, 1]);
  });

  it('acks the written head of a batch a splitting store wrote in part, and rejects the rest', async (t) => {
    const file = join(makeTmpDir(t), 'partial.sqlite');
    const inner = SqliteInputLog.openFile(file);
    // A store that commits in transactions of 2 and fails on the second one.
    const splitting = new RecordingLog(inner);
    splitting.appendBatch = async (reqs) => {
      const written = await inner.appendBatch(reqs.slice(0, 2));
      throw new PartialAppendError('second transaction failed', written, {});
    };
    const sequencer = new Sequencer({ log: splitting });
    const emitted: SessionBatch[][] = [];
    sequencer.on('sequenced', (batches) => emitted.push(batches));
    let failed = 0;
    sequencer.on('flushFailed', (_err, stats) => (failed += stats.size));
    let flushed = 0;
    sequencer.on('flushed', () => flushed++);
    t.after(async () => {
      await sequencer.close();
      await inner.close();
    });
    const settled = await Promise.allSettled(
      [0, 1, 2, 3].map((clientSeq) => sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq, event: move(0) })),
    );
    assert.deepEqual(
      settled.map((s) => (s.status === 'fulfilled' ? s.value.input.seq : s.reason instanceof DurabilityError)),
      [1, 2, true, true],
    );
    assert.deepEqual(
      emitted.flat().flatMap((b) => b.inputs.map((i) => i.seq)),
      [1, 2],
    );
    assert.equal(failed, 2);
    assert.equal(flushed, 0, 'a batch written in part is a failed flush, not a working store');
    assert.equal(await inner.headSeq('s'), 2);
  });

  it('rejects a batch whose client seqs cannot be read as a failed flush, and takes it once the log answers', async (t) => {
    const { sequencer, log } = rig(t);
    let failures = 0;
    sequencer.on('flushFailed', () => failures++);
    const read = log.lastClientSeq.bind(log);
    log.lastClientSeq = () => Promise.reject(new Error('store unreachable'));
    await assert.rejects(
      sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq: 0, event: move(0) }),
      DurabilityError,
    );
    assert.equal(failures, 1);
    assert.equal(await log.headSeq('s'), 0);
    log.lastClientSeq = read;
    const retry = await sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq: 0, event: move(0) });
    assert.deepEqual([retry.duplicate, retry.input.seq], [false, 1]);
  });

  it('flushes pending work on close and refuses submits after', async (t) => {
    const { sequencer, log } = rig(t);
    const ack = sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq: 0, event: move(0) });
    await sequencer.close();
    assert.deepEqual(log.calls, [1]);
    assert.equal((await ack).input.seq, 1);
    await assert.rejects(
      sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq: 1, event: move(1) }),
      ClosedError,
    );
  });

  it('keeps a failing listener from breaking acks or other listeners', async (t) => {
    const { sequencer, emitted } = rig(t);
    sequencer.on('sequenced', () => {
      throw new Error('listener bug');
    });
    let after = 0;
    sequencer.on('sequenced', () => after++);
    const r = await sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq: 0, event: move(0) });
    assert.equal(r.input.seq, 1);
    assert.equal(emitted.length, 1);
    assert.equal(after, 1);
  });
});

describe('Sequencer contiguous mode', () => {
  it('refuses a clientSeq that skips ahead (retryable conflict) and logs nothing for it', async (t) => {
    const { sequencer, log } = rig(t, { contiguous: true });
    const a = await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 0, event: move(1) });
    assert.equal(a.input.seq, 1);
    await assert.rejects(
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 2, event: move(2) }),
      (err: unknown) => {
        assert.ok(err instanceof OutOfOrderError);
        assert.equal(err.code, 'conflict');
        assert.equal(err.context.expected, 1);
        return true;
      },
    );
    assert.equal(await log.headSeq('s1'), 1);
    // Queued-but-unflushed inputs count: 1 and 2 in the same turn are both fine.
    const [b, c] = await Promise.all([
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 1, event: move(3) }),
      sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 2, event: move(4) }),
    ]);
    assert.deepEqual([b.input.seq, c.input.seq], [2, 3]);
    // A replay is still a duplicate, not an error.
    const again = await sequencer.submit({ sessionId: 's1', clientId: 'c', clientSeq: 0, event: move(1) });
    assert.equal(again.duplicate, true);
    assert.equal(again.input.seq, 1);
  });
});

describe('Sequencer unwanted inputs', () => {
  /** Session `w` is an app that reads no key-ups (like the writer); `t` one that reads them all. */
  const wanted: SequencerOptions['wanted'] = (sessionId, event) =>
    wantsInput(sessionId === 'w' ? { keyUps: false } : undefined, event);

  it('refuses a key-up for an app that reads none, unlogged, and takes the next input after its hole', async (t) => {
    const { sequencer, log, emitted } = rig(t, { contiguous: true, wanted });
    const down = await sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 0, event: key('down') });
    assert.equal(down.input.seq, 1);
    await assert.rejects(
      sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 1, event: key('up') }),
      (err: unknown) => {
        assert.ok(err instanceof UnwantedInputError);
        assert.equal(err.code, 'unwanted-input');
        return true;
      },
    );
    // The next key keeps its number (an old viewer numbered the key-up): no "skips ahead; expected 1".
    const next = await sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 2, event: key('down', 'b') });
    assert.deepEqual([next.duplicate, next.input.seq], [false, 2]);
    const stored = await log.read('w', 1, 100, 100);
    assert.deepEqual(
      stored.map((i) => [i.clientSeq, i.event.type === 'key' ? i.event.action : i.event.type]),
      [
        [0, 'down'],
        [2, 'down'],
      ],
    );
    assert.deepEqual(
      emitted.flat().flatMap((b) => b.inputs.map((i) => i.clientSeq)),
      [0, 2],
      'nothing unwritten is fanned out',
    );
    // Sent again (its refusal was lost with a connection), it is refused again, never logged.
    await assert.rejects(
      sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 1, event: key('up') }),
      UnwantedInputError,
    );
    assert.equal(await log.headSeq('w'), 2);
  });

  it('passes over holes of key-ups sent in the same turn as their presses, and only those', async (t) => {
    const { sequencer, log } = rig(t, { contiguous: true, wanted });
    // An old viewer typing fast: down/up pairs, never waiting for an ack.
    const events = ['a', 'b', 'c'].flatMap((ch) => [key('down', ch), key('up', ch)]);
    const settled = await Promise.allSettled(
      events.map((event, clientSeq) => sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq, event })),
    );
    assert.deepEqual(
      settled.map((r) => (r.status === 'fulfilled' ? r.value.input.seq : r.reason instanceof UnwantedInputError)),
      [1, true, 2, true, 3, true],
    );
    // A real skip (clientSeq 7 after 6, which nobody sent) is still out of order.
    await assert.rejects(
      sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 7, event: key('down', 'd') }),
      OutOfOrderError,
    );
    assert.equal(await log.headSeq('w'), 3);
  });

  it('still passes over a hole after the batch before it failed and is retried', async (t) => {
    const { sequencer, log } = rig(t, { contiguous: true, wanted });
    const fail = log.inner.appendBatch.bind(log.inner);
    log.inner.appendBatch = () => Promise.reject(new Error('disk gone'));
    const first = await Promise.allSettled([
      sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 0, event: key('down') }),
      sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 1, event: key('up') }),
      sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 2, event: key('down', 'b') }),
    ]);
    assert.deepEqual(
      first.map((r) => (r.status === 'rejected' && r.reason instanceof Error ? r.reason.name : r.status)),
      ['DurabilityError', 'UnwantedInputError', 'DurabilityError'],
    );
    log.inner.appendBatch = fail;
    // The retry, one at a time: 2 must still pass over the unwanted 1.
    assert.equal(
      (await sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 0, event: key('down') })).input.seq,
      1,
    );
    const b = await sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: 2, event: key('down', 'b') });
    assert.deepEqual([b.duplicate, b.input.seq], [false, 2]);
  });

  it('remembers a bounded number of holes over all clients (a control link cycling client ids)', async (t) => {
    const { sequencer } = rig(t, { contiguous: true, wanted });
    const perClient = 1000;
    const clients = Math.ceil((MAX_UNWANTED_TOTAL * 1.5) / perClient);
    for (let c = 0; c < clients; c++) {
      for (let clientSeq = 0; clientSeq < perClient; clientSeq++) {
        sequencer.submit({ sessionId: 'w', clientId: `c${c}`, clientSeq, event: key('up') }).catch(() => undefined);
      }
    }
    assert.ok(
      sequencer.unwantedHoles > 0 && sequencer.unwantedHoles <= MAX_UNWANTED_TOTAL,
      `${sequencer.unwantedHoles} holes held (at most ${MAX_UNWANTED_TOTAL})`,
    );
    // The most recently refused client's holes are the ones kept: its next key passes over them.
    const next = await sequencer.submit({
      sessionId: 'w',
      clientId: `c${clients - 1}`,
      clientSeq: perClient,
      event: key('down'),
    });
    assert.deepEqual([next.duplicate, next.input.seq], [false, 1]);
    const held = sequencer.unwantedHoles;
    await sequencer.submit({
      sessionId: 'w',
      clientId: `c${clients - 1}`,
      clientSeq: perClient + 1,
      event: key('down'),
    });
    assert.equal(sequencer.unwantedHoles, held - perClient, 'holes the log has passed are forgotten');
  });

  it('logs key-ups for an app that reads them, and every other input kind for any app', async (t) => {
    const { sequencer, log } = rig(t, { contiguous: true, wanted });
    const up = await sequencer.submit({ sessionId: 't', clientId: 'c', clientSeq: 0, event: key('up') });
    assert.equal(up.input.seq, 1);
    const others: InputEvent[] = [
      { ...key('down'), repeat: true },
      { type: 'release-all' },
      { type: 'pointer', action: 'up', x: 1, y: 1, button: 0, buttons: 0, mods: NO_MODS },
    ];
    for (const [i, event] of others.entries()) {
      assert.equal((await sequencer.submit({ sessionId: 'w', clientId: 'c', clientSeq: i, event })).input.seq, i + 1);
    }
    assert.equal(await log.headSeq('w'), 3);
  });
});

describe('Sequencer crash durability', () => {
  it('every acknowledged input survives a SIGKILL', async (t) => {
    const file = join(makeTmpDir(t), 'crash.sqlite');
    const script = fileURLToPath(new URL('../helpers/crash-appender.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script, file], {
      cwd: fileURLToPath(new URL('../..', import.meta.url)),
      env: { ...process.env, LOCKSTEP_LOG_LEVEL: 'warn' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    t.after(() => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    });

    const acked: Array<{ seq: number; clientId: string; clientSeq: number }> = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
      child.on('exit', (code, signal) => resolve({ code, signal })),
    );
    await new Promise<void>((resolve, reject) => {
      let buf = '';
      const timer = setTimeout(
        () => reject(new Error(`only ${acked.length} acks after 20 s; stderr: ${stderr}`)),
        20_000,
      );
      child.stdout.on('data', (d: Buffer) => {
        buf += d.toString();
        let nl: number;
        while ((nl = buf.indexOf('\n')) >= 0) {
          const [seq, clientId, clientSeq] = buf.slice(0, nl).split(' ');
          buf = buf.slice(nl + 1);
          acked.push({ seq: Number(seq), clientId: clientId ?? '', clientSeq: Number(clientSeq) });
        }
        if (acked.length >= 200 && child.signalCode === null) {
          clearTimeout(timer);
          child.kill('SIGKILL');
          resolve();
        }
      });
      child.on('exit', () => {
        clearTimeout(timer);
        if (acked.length < 200) reject(new Error(`child exited after ${acked.length} acks; stderr: ${stderr}`));
      });
    });
    const { signal } = await exited;
    assert.equal(signal, 'SIGKILL');

    const log = SqliteInputLog.openFile(file);
    t.after(() => log.close());
    const head = await log.headSeq('crash');
    const stored = new Map((await log.read('crash', 1, head, head + 1)).map((i) => [i.seq, i]));
    assert.ok(acked.length >= 200);
    for (const a of acked) {
      const row = stored.get(a.seq);
      assert.ok(row, `acked seq ${a.seq} missing after crash (head ${head})`);
      assert.equal(row.clientId, a.clientId);
      assert.equal(row.clientSeq, a.clientSeq);
    }
    // The log itself stays dense: no holes from the crash.
    assert.equal(stored.size, head);
    t.diagnostic(`${acked.length} acks before SIGKILL, ${head} inputs durable`);
  });
});
