// The cluster input feed on a real 3-member etcd: two log writers (as two
// servers would be) append to one session concurrently while each etcd member
// in turn, the leader first, is SIGKILLed and restarted; a feed on its own client emits every appended input
// exactly once, in seq order, with no gap. Catch-up from an old seq in pages,
// add/remove at runtime, a corrupt value (typed error, never emitted) and a
// truncated log (reported, nothing skipped). FeedRecovery on top: a truncated
// session is followed again from the latest snapshot once the core took the
// log's facts; a corrupt one stays stalled and listed.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { NO_MODS, type InputEvent, type SequencedInput } from '../../protocol/input.js';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { FeedRecovery } from '../../server/cluster/feed-recovery.js';
import { InputFeed } from '../../server/cluster/input-feed.js';
import type { DurableSession } from '../../server/session-core/session-core-types.js';
import { CorruptInputError, DurabilityError } from '../../server/errors.js';
import type { AppendRequest } from '../../server/input-log.js';
import { EtcdInputLog } from '../../server/log/etcd-input-log.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

const key = (ch: string): InputEvent => ({ type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS });
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** What a feed emitted, per session, in emission order. */
function collect(feed: InputFeed): Map<string, SequencedInput[]> {
  const got = new Map<string, SequencedInput[]>();
  feed.on('sequenced', (batches) => {
    for (const b of batches) got.set(b.sessionId, [...(got.get(b.sessionId) ?? []), ...b.inputs]);
  });
  return got;
}

function assertDense(inputs: SequencedInput[] | undefined, from: number, to: number): void {
  assert.deepEqual(
    (inputs ?? []).map((i) => i.seq),
    Array.from({ length: to - from + 1 }, (_, i) => from + i),
  );
}

describe('cluster input feed on a real 3-member etcd', () => {
  const logs: EtcdInputLog[] = [];
  const etcd = etcdSuite(async () => {
    await Promise.all(logs.map((l) => l.close()));
  });
  const openLog = async (ns: string): Promise<EtcdInputLog> => {
    const l = await EtcdInputLog.connect({ hosts: etcd.cluster().clientUrls, namespace: ns, callTimeoutMs: 1000 });
    logs.push(l);
    return l;
  };

  it('emits every input of two concurrent writers once, in order, gap-free, across etcd member kills (the leader first)', async (t) => {
    const ns = 'feed-kill/';
    const [a, b] = [await openLog(ns), await openLog(ns)];
    const feed = await InputFeed.create({ client: etcd.client(), namespace: ns, pageSize: 16, resyncMs: 500 });
    t.after(() => feed.close());
    const got = collect(feed);
    await feed.add('s1', 0);
    await feed.add('s2', 0);

    const acked = new Map<string, SequencedInput>();
    let stop = false;
    /** One writer: batches of 1..4 inputs for both sessions, resent on failure until acknowledged (idempotent). */
    const writer = async (l: EtcdInputLog, clientId: string): Promise<void> => {
      let cseq = 0;
      while (!stop) {
        const n = 1 + (cseq % 4);
        const batch: AppendRequest[] = [];
        for (let i = 0; i < n; i++, cseq++) {
          const sessionId = cseq % 3 === 0 ? 's2' : 's1';
          batch.push({ sessionId, clientId, clientSeq: cseq, time: cseq, event: key(String(cseq % 10)) });
        }
        for (;;) {
          try {
            for (const r of await l.appendBatch(batch)) acked.set(`${r.input.clientId}:${r.input.clientSeq}`, r.input);
            break;
          } catch (err) {
            assert.ok(err instanceof DurabilityError, String(err));
            await sleep(50);
          }
        }
        await sleep(5);
      }
    };
    const writers = [writer(a, 'wa'), writer(b, 'wb')];
    await until(() => acked.size > 100, 20_000, 'inputs before the kill');
    // The etcd leader first, then the others in turn: the member carrying the feed's watch stream dies once for sure.
    const leader = await etcd.cluster().waitLeader();
    for (const member of [leader, (leader + 1) % 3, (leader + 2) % 3]) {
      const before = acked.size;
      await etcd.cluster().kill(member);
      await sleep(1000);
      await etcd.cluster().restart(member);
      await until(() => acked.size > before + 20, 10_000, 'appends going on after the restart');
    }
    stop = true;
    await Promise.all(writers);

    const head = { s1: await a.headSeq('s1'), s2: await a.headSeq('s2') };
    await until(
      () => (got.get('s1')?.length ?? 0) >= head.s1 && (got.get('s2')?.length ?? 0) >= head.s2,
      15_000,
      'the feed to reach the heads',
    );
    await sleep(600); // a resync or two: still nothing twice
    assertDense(got.get('s1'), 1, head.s1);
    assertDense(got.get('s2'), 1, head.s2);
    // Exactly what was acknowledged, from both writers, nothing else.
    const emitted = [...(got.get('s1') ?? []), ...(got.get('s2') ?? [])];
    assert.equal(emitted.length, acked.size);
    for (const input of emitted) assert.deepEqual(acked.get(`${input.clientId}:${input.clientSeq}`), input);
    assert.ok(emitted.some((i) => i.clientId === 'wa') && emitted.some((i) => i.clientId === 'wb'));
  });

  it('re-reads and watches again when etcd cancels its watch (revision compacted while it was away)', async (t) => {
    const ns = 'feed-compacted/';
    const cluster = etcd.cluster();
    const l = await openLog(ns);
    const admin = etcd.client();
    const append = async (from: number, n: number): Promise<void> => {
      const reqs = Array.from({ length: n }, (_, i) => ({
        sessionId: 'cx',
        clientId: 'w',
        clientSeq: from + i,
        time: from + i,
        event: key('q'),
      }));
      for (;;) {
        try {
          await l.appendBatch(reqs);
          return;
        } catch (err) {
          assert.ok(err instanceof DurabilityError, String(err));
          await sleep(50);
        }
      }
    };
    await append(0, 5);
    // The feed talks to one member only: killing it takes its watch stream away for sure.
    const only = ((await cluster.waitLeader()) + 1) % 3;
    const feedClient = openEtcdClient({ hosts: [cluster.clientUrls[only] ?? ''], callTimeoutMs: 1000 });
    const feed = await InputFeed.create({ client: feedClient, namespace: ns, resyncMs: 0, retryMs: 100 });
    t.after(async () => {
      await feed.close();
      feedClient.close();
    });
    const got = collect(feed);
    await feed.add('cx', 0);
    assertDense(got.get('cx'), 1, 5);
    await cluster.kill(only);
    await append(5, 5);
    // Other writes move the revision on; then everything before it is compacted away.
    for (let i = 0; i < 20; i++) await admin.put(`${ns}other/${i}`).value('x');
    const rev = (await admin.get(`${ns}other/0`).exec()).header.revision;
    await admin.kv.compact({ revision: rev, physical: true });
    await cluster.restart(only);
    await until(() => (got.get('cx')?.length ?? 0) >= 10, 15_000, 'the inputs appended while the watch was away');
    await append(10, 3); // and the new watch follows
    await until(() => (got.get('cx')?.length ?? 0) >= 13, 5000, 'inputs after the new watch');
    await sleep(200);
    assertDense(got.get('cx'), 1, 13);
  });

  it('catches up from a given seq in pages, follows new inputs, and stops on remove', async (t) => {
    const ns = 'feed-catchup/';
    const l = await openLog(ns);
    const reqs = Array.from({ length: 300 }, (_, i) => ({
      sessionId: 'c',
      clientId: 'w',
      clientSeq: i,
      time: i,
      event: key('x'),
    }));
    for (let i = 0; i < reqs.length; i += 50) await l.appendBatch(reqs.slice(i, i + 50));
    const feed = await InputFeed.create({ client: etcd.client(), namespace: ns, pageSize: 32, resyncMs: 0 });
    t.after(() => feed.close());
    const got = collect(feed);
    await feed.add('c', 120);
    assertDense(got.get('c'), 121, 300); // add() resolves once caught up
    await l.appendBatch([{ sessionId: 'c', clientId: 'w', clientSeq: 300, time: 300, event: key('y') }]);
    await until(() => (got.get('c')?.length ?? 0) === 181, 5000, 'the watched input');
    assert.deepEqual([got.get('c')?.at(-1)?.seq, got.get('c')?.at(-1)?.clientSeq], [301, 300]);
    await feed.remove('c');
    await l.appendBatch([{ sessionId: 'c', clientId: 'w', clientSeq: 301, time: 301, event: key('z') }]);
    await sleep(300);
    assert.equal(got.get('c')?.length, 181);
    assert.deepEqual([...feed.sessions().keys()], []);
  });

  it('never emits a corrupt value: a typed error, and the session stalls there', async (t) => {
    const ns = 'feed-corrupt/';
    const l = await openLog(ns);
    const admin = etcd.client();
    await l.appendBatch([0, 1].map((i) => ({ sessionId: 'k', clientId: 'w', clientSeq: i, time: i, event: key('a') })));
    const feed = await InputFeed.create({ client: etcd.client(), namespace: ns, resyncMs: 0 });
    t.after(() => feed.close());
    const got = collect(feed);
    const corrupt: Array<{ seq: number; error: CorruptInputError }> = [];
    feed.on('corrupt', (c) => corrupt.push(c));
    await feed.add('k', 0);
    assertDense(got.get('k'), 1, 2);
    // A hostile party with etcd access writes seq 3 itself, without the schema.
    await admin.put(`${ns}log/k/in/${'3'.padStart(16, '0')}`).value('{"event":{"type":"rm -rf"}}');
    await l.appendBatch([2, 3].map((i) => ({ sessionId: 'k', clientId: 'w', clientSeq: i, time: i, event: key('b') })));
    await until(() => corrupt.length > 0, 5000, 'the corrupt report');
    await sleep(200);
    assert.equal(corrupt[0]?.seq, 3);
    assert.ok(corrupt[0]?.error instanceof CorruptInputError);
    assert.deepEqual(
      got.get('k')?.map((i) => i.seq),
      [1, 2],
    );
  });

  it('reports a log truncated past it instead of skipping', async (t) => {
    const ns = 'feed-truncated/';
    const l = await openLog(ns);
    await l.appendBatch(
      Array.from({ length: 10 }, (_, i) => ({
        sessionId: 'tr',
        clientId: 'w',
        clientSeq: i,
        time: i,
        event: key('a'),
      })),
    );
    await l.putSnapshot({ sessionId: 'tr', seq: 6, stateHash: 'h6', data: Buffer.from('state') });
    await l.truncateThrough('tr', 6);
    const feed = await InputFeed.create({ client: etcd.client(), namespace: ns, resyncMs: 0 });
    t.after(() => feed.close());
    const got = collect(feed);
    const truncated: Array<{ expectedSeq: number; firstSeq: number }> = [];
    feed.on('truncated', (x) => truncated.push(x));
    await feed.add('tr', 2);
    assert.equal(got.get('tr'), undefined);
    assert.deepEqual(truncated, [{ sessionId: 'tr', expectedSeq: 3, firstSeq: 7 }]);
    // From the snapshot's seq it follows again.
    await feed.remove('tr');
    await feed.add('tr', 6);
    assertDense(got.get('tr'), 7, 10);
  });
  it('FeedRecovery: a truncated session follows again from the latest snapshot after the core took the log; a corrupt one stays stalled, listed', async (t) => {
    const ns = 'feed-recovery/';
    const l = await openLog(ns);
    const admin = etcd.client();
    const appendN = (sessionId: string, from: number, n: number) =>
      l.appendBatch(
        Array.from({ length: n }, (_, i) => ({
          sessionId,
          clientId: 'w',
          clientSeq: from + i,
          time: from + i,
          event: key('a'),
        })),
      );
    await appendN('tr', 0, 10);
    await l.putSnapshot({ sessionId: 'tr', seq: 4, stateHash: 'h4', data: Buffer.from('state 4') });
    await l.putSnapshot({ sessionId: 'tr', seq: 8, stateHash: 'h8', data: Buffer.from('state 8') });
    await l.truncateThrough('tr', 4);
    await appendN('k', 0, 4);
    // A hostile party with etcd access overwrites seq 3 without the schema.
    await admin.put(`${ns}log/k/in/${'3'.padStart(16, '0')}`).value('{"event":{"type":"rm -rf"}}');

    const feed = await InputFeed.create({ client: etcd.client(), namespace: ns, resyncMs: 0 });
    t.after(() => feed.close());
    const got = collect(feed);
    /** What the session manager's resyncFromLog hands the core, read from the real log. */
    const resynced: string[] = [];
    const recovery = new FeedRecovery({
      feed,
      retryMs: 50,
      target: {
        resyncFromLog: async (sessionId): Promise<DurableSession> => {
          resynced.push(sessionId);
          const snap = await l.latestSnapshot(sessionId);
          return {
            meta: {
              sessionId,
              owner: 'o',
              app: { name: 'writer', hash: 'h' },
              replicationFactor: 2,
              width: 1,
              height: 1,
              createdAt: 0,
            },
            headSeq: await l.headSeq(sessionId),
            snapshot: snap && { seq: snap.seq, stateHash: snap.stateHash },
            previousSnapshot: { seq: 4, stateHash: 'h4' },
            compactedThrough: 4,
          };
        },
      },
    });
    t.after(() => recovery.close());

    await feed.add('tr', 2);
    await until(() => (got.get('tr')?.length ?? 0) === 2, 5000, 'the inputs after the latest snapshot');
    assertDense(got.get('tr'), 9, 10);
    assert.deepEqual(resynced, ['tr'], 'the core took the log before the feed followed again');
    await until(() => recovery.stalled().length === 0, 5000, 'the truncation recovered');
    await appendN('tr', 10, 1);
    await until(() => (got.get('tr')?.length ?? 0) === 3, 5000, 'new inputs followed');

    await feed.add('k', 0);
    await until(() => recovery.stalled().length === 1, 5000, 'the corrupt session listed');
    await sleep(200);
    const [stalled] = recovery.stalled();
    assert.deepEqual(
      [stalled?.sessionId, stalled?.reason, stalled?.seq, stalled?.recovering],
      ['k', 'corrupt', 3, false],
    );
    assertDense(got.get('k'), 1, 2);
    assert.deepEqual(resynced, ['tr'], 'a corrupt input is not recovered from (nor skipped)');
  });
});
