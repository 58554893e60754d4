// One contract, two stores: every case below runs against SqliteInputLog (a
// real SQLite file) and EtcdInputLog (a real 3-member etcd started here).
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, it, type TestContext } from 'node:test';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { openDatabase } from '../../server/database.js';
import {
  BadRequestError,
  ConflictError,
  DurabilityError,
  OutOfRangeError,
  UnsafeTruncationError,
} from '../../server/errors.js';
import { COMPACTED_SEQ, type AppendRequest, type AppendResult, type InputLog } from '../../server/input-log.js';
import { EtcdCluster } from '../../server/log/etcd-cluster.js';
import { EtcdInputLog } from '../../server/log/etcd-input-log.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

function key(ch: string): InputEvent {
  return { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS };
}

function req(sessionId: string, clientId: string, clientSeq: number, event: InputEvent = key('a')): AppendRequest {
  return { sessionId, clientId, clientSeq, time: 1000 + clientSeq, event };
}

const seqs = (rs: AppendResult[]): number[] => rs.map((r) => r.input.seq);

interface Store {
  /** A fresh, empty log, closed when the test ends. */
  open(t: TestContext): Promise<InputLog>;
  /** A second instance over the same data as the last open() (another writer). */
  openSecond(t: TestContext): Promise<InputLog>;
  /** A fresh log whose writes fail until `restore()` (store unreachable / locked). */
  failing(t: TestContext): Promise<{ log: InputLog; restore: () => Promise<void> }>;
}

let cluster: EtcdCluster | undefined;

function sqliteStore(): Store {
  let file = '';
  return {
    open(t) {
      file = join(makeTmpDir(t), 'log.sqlite');
      const log = SqliteInputLog.openFile(file);
      t.after(() => log.close());
      return Promise.resolve(log);
    },
    openSecond(t) {
      const log = SqliteInputLog.openFile(file);
      t.after(() => log.close());
      return Promise.resolve(log);
    },
    failing(t) {
      const path = join(makeTmpDir(t), 'log.sqlite');
      const log = SqliteInputLog.openFile(path, { busyTimeoutMs: 20 });
      // Another connection holds the write lock: every append fails with SQLITE_BUSY.
      const blocker = openDatabase(path);
      blocker.exec('BEGIN IMMEDIATE');
      t.after(async () => {
        if (blocker.open) blocker.close();
        await log.close();
      });
      return Promise.resolve({
        log,
        restore: () => {
          blocker.exec('ROLLBACK');
          blocker.close();
          return Promise.resolve();
        },
      });
    },
  };
}

function etcdStore(): Store {
  let namespace = '';
  const connect = async (t: TestContext): Promise<InputLog> => {
    assert.ok(cluster, 'etcd cluster not started');
    const log = await EtcdInputLog.connect({ hosts: cluster.clientUrls, namespace, callTimeoutMs: 1500 });
    t.after(() => log.close());
    return log;
  };
  return {
    open(t) {
      namespace = `test-${randomBytes(4).toString('hex')}/`;
      return connect(t);
    },
    openSecond: connect,
    async failing(t) {
      const log = await this.open(t);
      const c = cluster;
      assert.ok(c);
      assert.deepEqual(c.stopped(), [], `every member runs before the outage:\n${c.report()}`);
      // Two of three members down: no quorum, so no write can commit.
      await Promise.all([c.stop(0), c.stop(1)]);
      // Both at once: the two give each other the quorum back, whether or not
      // member 2 is still up (one by one, the first waited on member 2 alone).
      const restore = (): Promise<void> => c.restart(0, 1);
      t.after(async () => {
        // Whatever happened (a member that crashed meanwhile included), the
        // next test gets three healthy members; a crash is logged by EtcdCluster.
        await c.restart(...c.stopped());
        await c.waitHealthy();
      });
      return { log, restore };
    },
  };
}

before(async () => {
  cluster = await EtcdCluster.create({ members: 3 });
});

after(async () => {
  await cluster?.close();
});

for (const [name, store] of [
  ['SqliteInputLog', sqliteStore()],
  ['EtcdInputLog', etcdStore()],
] as const) {
  describe(`InputLog contract: ${name}`, () => {
    it('assigns dense seqs per session in request order and reads them back', async (t) => {
      const log = await store.open(t);
      const results = await log.appendBatch([
        req('s1', 'a', 0),
        req('s1', 'b', 0),
        req('s2', 'a', 0),
        req('s1', 'a', 1),
        req('s2', 'a', 1),
      ]);
      assert.deepEqual(seqs(results), [1, 2, 1, 3, 2]);
      assert.ok(results.every((r) => !r.duplicate));
      const more = await log.appendBatch([req('s1', 'b', 1)]);
      assert.deepEqual(seqs(more), [4]);
      const read = await log.read('s1', 1, 100, 100);
      assert.deepEqual(
        read.map((i) => [i.seq, i.clientId, i.clientSeq, i.time]),
        [
          [1, 'a', 0, 1000],
          [2, 'b', 0, 1000],
          [3, 'a', 1, 1001],
          [4, 'b', 1, 1001],
        ],
      );
      assert.deepEqual(read[0]?.event, key('a'));
      assert.equal(await log.headSeq('s1'), 4);
      assert.equal(await log.headSeq('s2'), 2);
      assert.equal(await log.headSeq('none'), 0);
      assert.equal(await log.lastClientSeq('s1', 'b'), 1);
      assert.equal(await log.lastClientSeq('s1', 'nobody'), -1);
    });

    it('is idempotent by (session, client, clientSeq), across calls and inside one', async (t) => {
      const log = await store.open(t);
      const [first] = await log.appendBatch([req('s1', 'c', 0, key('x'))]);
      await log.appendBatch([req('s1', 'c', 1)]);
      // The same key with another event and time: the original comes back.
      const [again] = await log.appendBatch([{ ...req('s1', 'c', 0, key('z')), time: 9 }]);
      assert.equal(again?.duplicate, true);
      assert.deepEqual(again?.input, first?.input);
      const batch = await log.appendBatch([req('s1', 'c', 2), req('s1', 'c', 2), req('s1', 'c', 3)]);
      assert.deepEqual(
        batch.map((r) => [r.input.seq, r.duplicate]),
        [
          [3, false],
          [3, true],
          [4, false],
        ],
      );
      // At or below the client's last clientSeq is always a replay, never new.
      await log.appendBatch([req('s1', 'c', 9)]);
      const [hole] = await log.appendBatch([req('s1', 'c', 7)]);
      assert.deepEqual([hole?.duplicate, hole?.input.seq], [true, COMPACTED_SEQ]);
      assert.equal(await log.headSeq('s1'), 5);
      assert.equal((await log.read('s1', 1, 100, 100)).length, 5);
    });

    it('reads inclusive ranges in pages, with limits, and refuses bad arguments', async (t) => {
      const log = await store.open(t);
      await log.appendBatch(Array.from({ length: 100 }, (_, i) => req('s1', 'c', i)));
      const range = async (from: number, to: number, limit: number): Promise<number[]> =>
        (await log.read('s1', from, to, limit)).map((i) => i.seq);
      assert.deepEqual(await range(10, 14, 100), [10, 11, 12, 13, 14]);
      assert.deepEqual(
        await range(1, 100, 70),
        Array.from({ length: 70 }, (_, i) => i + 1),
      );
      assert.deepEqual(await range(98, 1000, 100), [98, 99, 100]);
      assert.deepEqual(await range(101, 200, 10), []);
      assert.deepEqual(await range(20, 10, 10), []);
      assert.deepEqual(await range(1, 50, 0), []);
      assert.deepEqual(await log.read('other', 1, 50, 10), []);
      await assert.rejects(() => log.read('s1', 1.5, 3, 10), BadRequestError);
      await assert.rejects(() => log.read('s1', 1, 3, -1), BadRequestError);
    });

    it('group-commits a large batch: dense, ordered and complete, whatever the store splits', async (t) => {
      const log = await store.open(t);
      // 1000 small inputs over 2 sessions and 7 clients, then 40 pastes of 60 KiB (2.4 MB).
      const next = new Map<string, number>();
      const small = Array.from({ length: 1000 }, (_, i) => {
        const sessionId = `s${i % 2}`;
        const clientId = `c${i % 7}`;
        const k = `${sessionId}/${clientId}`;
        const clientSeq = next.get(k) ?? 0;
        next.set(k, clientSeq + 1);
        return req(sessionId, clientId, clientSeq);
      });
      const results = await log.appendBatch(small);
      assert.equal(results.length, 1000);
      for (const sessionId of ['s0', 's1']) {
        const got = results.filter((_, i) => small[i]?.sessionId === sessionId).map((r) => r.input.seq);
        assert.deepEqual(
          got,
          got.map((_, i) => i + 1),
        );
        const stored = await log.read(sessionId, 1, 1000, 1000);
        assert.deepEqual(
          stored.map((s) => `${s.clientId}:${s.clientSeq}`),
          small.filter((r) => r.sessionId === sessionId).map((r) => `${r.clientId}:${r.clientSeq}`),
        );
      }
      const text = 'p'.repeat(60 * 1024);
      const paste: InputEvent = { type: 'paste', text };
      const big = await log.appendBatch(Array.from({ length: 40 }, (_, i) => req('big', 'c', i, paste)));
      assert.deepEqual(
        seqs(big),
        Array.from({ length: 40 }, (_, i) => i + 1),
      );
      const back = await log.read('big', 1, 40, 40);
      assert.equal(back.length, 40);
      assert.ok(back.every((i) => i.event.type === 'paste' && i.event.text === text));
    });

    it('stores snapshots (chunked when large) and returns the latest', async (t) => {
      const log = await store.open(t);
      await log.appendBatch(Array.from({ length: 30 }, (_, i) => req('s1', 'c', i)));
      assert.equal(await log.latestSnapshot('s1'), null);
      const large = randomBytes(1_300_000); // over etcd's 1 MiB value comfort zone: several chunks
      await log.putSnapshot({ sessionId: 's1', seq: 5, stateHash: 'h5', data: Buffer.from('five') });
      await log.putSnapshot({ sessionId: 's1', seq: 20, stateHash: 'h20', data: large });
      await log.putSnapshot({ sessionId: 's1', seq: 20, stateHash: 'h20', data: large }); // idempotent
      const latest = await log.latestSnapshot('s1');
      assert.equal(latest?.seq, 20);
      assert.equal(latest?.stateHash, 'h20');
      assert.ok(latest?.data.equals(large));
      assert.equal(typeof latest?.createdAt, 'number');
      const empty = await store.openSecond(t);
      assert.ok((await empty.latestSnapshot('s1'))?.data.equals(large), 'visible to another instance');
      await assert.rejects(
        () => log.putSnapshot({ sessionId: 's1', seq: 20, stateHash: 'other', data: Buffer.from('x') }),
        ConflictError,
      );
      await assert.rejects(
        () => log.putSnapshot({ sessionId: 's1', seq: 31, stateHash: 'h', data: Buffer.alloc(0) }),
        OutOfRangeError,
      );
      await assert.rejects(
        () => log.putSnapshot({ sessionId: 's1', seq: 3, stateHash: '', data: Buffer.alloc(0) }),
        BadRequestError,
      );
      assert.equal(await log.latestSnapshot('s2'), null);
    });

    it('finds snapshots at a seq and before one, and deletes them by range or one by one', async (t) => {
      const log = await store.open(t);
      await log.appendBatch(Array.from({ length: 40 }, (_, i) => req('s1', 'c', i)));
      const large = randomBytes(1_300_000); // several chunks on etcd: all of them go
      await log.putSnapshot({ sessionId: 's1', seq: 10, stateHash: 'h10', data: Buffer.from('ten') });
      await log.putSnapshot({ sessionId: 's1', seq: 20, stateHash: 'h20', data: large });
      await log.putSnapshot({ sessionId: 's1', seq: 30, stateHash: 'h30', data: Buffer.from('thirty') });
      assert.ok((await log.snapshotAt('s1', 20))?.data.equals(large));
      assert.equal((await log.snapshotAt('s1', 10))?.stateHash, 'h10');
      assert.equal(await log.snapshotAt('s1', 15), null, 'exactly that seq');
      assert.equal(await log.snapshotAt('s2', 10), null, 'of that session');
      assert.equal((await log.snapshotBefore('s1', 30))?.seq, 20, 'strictly below');
      assert.equal((await log.snapshotBefore('s1', 25))?.seq, 20);
      assert.equal((await log.snapshotBefore('s1', 31))?.seq, 30);
      assert.equal(await log.snapshotBefore('s1', 10), null);
      // Truncation leaves snapshots alone: pruning them is deleteSnapshots' job.
      await log.truncateThrough('s1', 20);
      assert.equal((await log.snapshotAt('s1', 10))?.seq, 10);
      assert.equal(await log.deleteSnapshots('s1', { beforeSeq: 20 }), 1);
      assert.equal(await log.snapshotAt('s1', 10), null);
      assert.ok((await log.snapshotAt('s1', 20))?.data.equals(large), 'the one at beforeSeq stays');
      assert.equal(await log.deleteSnapshots('s1', { onlySeq: 30 }), 1);
      assert.equal((await log.latestSnapshot('s1'))?.seq, 20, 'the previous one is the latest again');
      assert.equal(await log.deleteSnapshots('s1', { onlySeq: 30 }), 0);
      assert.equal(await log.deleteSnapshots('s2', { beforeSeq: 100 }), 0);
      const other = await store.openSecond(t);
      assert.equal((await other.snapshotBefore('s1', 100))?.seq, 20, 'seen by another instance');
      assert.equal(await log.deleteSnapshots('s1', { beforeSeq: 100 }), 1);
      assert.equal(await other.latestSnapshot('s1'), null);
    });

    it('truncates only behind a snapshot; replays after truncation are recognised', async (t) => {
      const log = await store.open(t);
      await log.appendBatch(Array.from({ length: 10 }, (_, i) => req('s1', i % 2 ? 'b' : 'a', Math.floor(i / 2))));
      await assert.rejects(() => log.truncateThrough('s1', 5), UnsafeTruncationError);
      await log.putSnapshot({ sessionId: 's1', seq: 6, stateHash: 'h6', data: Buffer.from('six') });
      await assert.rejects(() => log.truncateThrough('s1', 7), UnsafeTruncationError);
      assert.equal(await log.truncateThrough('s1', 6), 6);
      assert.deepEqual(
        (await log.read('s1', 1, 100, 100)).map((i) => i.seq),
        [7, 8, 9, 10],
      );
      assert.equal(await log.headSeq('s1'), 10);
      assert.equal(await log.lastClientSeq('s1', 'a'), 4);
      assert.equal((await log.latestSnapshot('s1'))?.seq, 6);
      // A replay of a truncated input: duplicate, seq -1. Of a kept one: its seq. New ones continue.
      const [gone, kept, fresh] = await log.appendBatch([req('s1', 'a', 1), req('s1', 'a', 4), req('s1', 'a', 5)]);
      assert.deepEqual([gone?.duplicate, gone?.input.seq], [true, COMPACTED_SEQ]);
      assert.deepEqual([kept?.duplicate, kept?.input.seq], [true, 9]);
      assert.deepEqual([fresh?.duplicate, fresh?.input.seq], [false, 11]);
      assert.equal(await log.truncateThrough('s1', 6), 0);
    });

    it('acknowledges nothing of a failed write, and a resend then succeeds', async (t) => {
      const { log, restore } = await store.failing(t);
      const batch = [req('s1', 'c', 0), req('s1', 'c', 1), req('s1', 'c', 2)];
      await assert.rejects(() => log.appendBatch(batch), DurabilityError);
      await restore();
      assert.equal(await log.headSeq('s1'), 0);
      assert.equal(await log.lastClientSeq('s1', 'c'), -1);
      const retry = await log.appendBatch(batch);
      assert.deepEqual(
        retry.map((r) => [r.input.seq, r.duplicate]),
        [
          [1, false],
          [2, false],
          [3, false],
        ],
      );
    });

    it('two instances appending to one session never share or skip a seq', async (t) => {
      const a = await store.open(t);
      const b = await store.openSecond(t);
      const write = async (log: InputLog, clientId: string): Promise<AppendResult[]> => {
        const out: AppendResult[] = [];
        for (let round = 0; round < 15; round++) {
          const reqs = Array.from({ length: 8 }, (_, i) => req('shared', clientId, round * 8 + i));
          out.push(...(await log.appendBatch(reqs)));
        }
        return out;
      };
      const [ra, rb] = await Promise.all([write(a, 'a'), write(b, 'b')]);
      const all = [...ra, ...rb];
      assert.ok(all.every((r) => !r.duplicate));
      assert.deepEqual(
        all.map((r) => r.input.seq).sort((x, y) => x - y),
        Array.from({ length: 240 }, (_, i) => i + 1),
      );
      const stored = await a.read('shared', 1, 1000, 1000);
      assert.equal(stored.length, 240);
      assert.equal(new Set(stored.map((s) => `${s.clientId}:${s.clientSeq}`)).size, 240);
      assert.equal(await b.headSeq('shared'), 240);
    });

    it('one client resending the same inputs through two instances (two servers) gets each logged once', async (t) => {
      // A viewer whose ack did not come in time sends the same (client, seq) through another server,
      // possibly while the first copy is still being written.
      const a = await store.open(t);
      const b = await store.openSecond(t);
      const both: AppendResult[][] = [];
      for (let round = 0; round < 10; round++) {
        const reqs = Array.from({ length: 4 }, (_, i) =>
          req('resent', 'viewer', round * 4 + i, key(`k${round * 4 + i}`)),
        );
        both.push(...(await Promise.all([a.appendBatch(reqs), b.appendBatch(reqs)])));
      }
      const stored = await a.read('resent', 1, 1000, 1000);
      assert.deepEqual(
        stored.map((s) => s.clientSeq),
        Array.from({ length: 40 }, (_, i) => i),
        'each clientSeq once, in order',
      );
      assert.equal(await b.headSeq('resent'), 40);
      assert.equal(await b.lastClientSeq('resent', 'viewer'), 39);
      // Both instances answer with the one logged seq; exactly one of them wrote it.
      for (let round = 0; round < 10; round++) {
        const ra = both[2 * round] ?? [];
        const rb = both[2 * round + 1] ?? [];
        for (const [i, x] of ra.entries()) {
          const y = rb[i];
          assert.ok(y);
          assert.equal(x.input.seq, y.input.seq);
          assert.equal(x.input.clientSeq, round * 4 + i);
          assert.ok(x.duplicate !== y.duplicate, 'one original, one duplicate');
        }
      }
    });
  });
}

describe('EtcdInputLog under an etcd leader SIGKILL', () => {
  it('keeps every acknowledged append, exactly once', async (t) => {
    const c = cluster;
    assert.ok(c);
    await c.waitHealthy();
    assert.deepEqual(c.stopped(), [], `three members before the leader is killed:\n${c.report()}`);
    const store = etcdStore();
    const log = await store.open(t);
    const acked: AppendResult[] = [];
    let failures = 0;
    let stop = false;
    const clients = ['c0', 'c1', 'c2'];
    const writer = async (clientId: string): Promise<void> => {
      let clientSeq = 0;
      while (!stop) {
        const reqs = Array.from({ length: 5 }, (_, i) => req('chaos', clientId, clientSeq + i));
        try {
          acked.push(...(await log.appendBatch(reqs)));
          clientSeq += reqs.length;
        } catch (err) {
          // Not acknowledged: resend the same clientSeqs (idempotent), as a viewer does.
          assert.ok(err instanceof DurabilityError, String(err));
          failures++;
        }
      }
    };
    const writers = clients.map((id) => writer(id));
    const waitAcks = async (n: number): Promise<void> => {
      const deadline = Date.now() + 30_000;
      while (acked.length < n && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
      assert.ok(acked.length >= n, `only ${acked.length} acks`);
    };
    await waitAcks(150);
    const leader = await c.waitLeader();
    await c.kill(leader);
    const before = acked.length;
    await waitAcks(before + 150); // the log carries on with two members
    await c.restart(leader);
    await waitAcks(acked.length + 50);
    stop = true;
    await Promise.all(writers);

    const head = await log.headSeq('chaos');
    const stored = await log.read('chaos', 1, head, head + 1);
    assert.equal(stored.length, head, 'dense: no holes');
    const bySeq = new Map(stored.map((s) => [s.seq, s]));
    const keys = new Set(stored.map((s) => `${s.clientId}:${s.clientSeq}`));
    assert.equal(keys.size, stored.length, 'no input logged twice');
    const newAcks = acked.filter((r) => !r.duplicate);
    for (const a of newAcks) {
      const row = bySeq.get(a.input.seq);
      assert.ok(row, `acked seq ${a.input.seq} missing`);
      assert.equal(`${row.clientId}:${row.clientSeq}`, `${a.input.clientId}:${a.input.clientSeq}`);
    }
    // Each client's inputs are contiguous from 0: nothing acked was lost, nothing skipped.
    for (const clientId of clients) {
      const mine = stored.filter((s) => s.clientId === clientId).map((s) => s.clientSeq);
      assert.deepEqual(
        mine,
        mine.map((_, i) => i),
      );
    }
    t.diagnostic(`${acked.length} acks, ${failures} failed appends (resent), head ${head}, leader ${leader} killed`);
  });
});
