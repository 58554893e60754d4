// The cluster session watch on a real 3-member etcd: a server learns the
// sessions other servers create and close (initial list, then events), also
// across an etcd leader kill, and ignores a record that does not parse.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { etcdCall, openEtcdClient } from '../../server/cluster/etcd-client.js';
import { SessionWatch } from '../../server/cluster/session-watch.js';
import { DurabilityError } from '../../server/errors.js';
import type { NewSession, SessionRecord } from '../../server/session-store.js';
import { EtcdSessionStore } from '../../server/store/etcd-session-store.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

const session = (id: string, owner = 'alice'): NewSession => ({
  id,
  owner,
  app: { name: 'writer', hash: '0123456789abcdef' },
  replicationFactor: 2,
  width: 800,
  height: 600,
});

/** Retries a store call while etcd elects a leader (the store refuses, it never half-writes). */
async function retrying<T>(fn: () => Promise<T>): Promise<T> {
  for (let i = 0; ; i++) {
    try {
      return await fn();
    } catch (err) {
      if (!(err instanceof DurabilityError) || i > 50) throw err;
      await new Promise((r) => setTimeout(r, 100));
    }
  }
}

describe('cluster session watch on a real 3-member etcd', () => {
  const etcd = etcdSuite();

  it('lists open sessions, then learns creates and closes by any server, across an etcd leader kill', async (t) => {
    const ns = 'sessions-a/';
    const a = new EtcdSessionStore(etcd.client(), { namespace: ns });
    const b = new EtcdSessionStore(etcd.client(), { namespace: ns });
    await a.create(session('early'));
    await a.create(session('gone'));
    await a.close('gone');
    const watch = await SessionWatch.create({ client: etcd.client(), namespace: ns });
    t.after(() => watch.close());
    assert.deepEqual(
      watch.list().map((r) => r.id),
      ['early'],
    );
    const created: SessionRecord[] = [];
    const closed: string[] = [];
    watch.on('created', (row) => created.push(row));
    watch.on('closed', (id) => closed.push(id));

    const fromB = await b.create(session('from-b', 'bob'));
    await until(() => created.length === 1, 5000, 'the create on the other server');
    assert.deepEqual(created[0], fromB);
    await a.close('from-b');
    await until(() => closed.length === 1, 5000, 'the close');
    assert.deepEqual(closed, ['from-b']);

    const leader = await etcd.cluster().waitLeader();
    await etcd.cluster().kill(leader);
    t.after(() => etcd.cluster().restart(leader));
    await retrying(() => b.create(session('during')));
    await retrying(() => a.close('early'));
    await until(() => created.length === 2 && closed.length === 2, 10_000, 'events after the etcd leader kill');
    assert.equal(created[1]?.id, 'during');
    assert.deepEqual(closed, ['from-b', 'early']);
    assert.deepEqual(
      watch.list().map((r) => r.id),
      ['during'],
    );
  });

  it('lists again when etcd cancels its watch (revision compacted while it was away)', async (t) => {
    const ns = 'sessions-c/';
    const cluster = etcd.cluster();
    const admin = etcd.client();
    const store = new EtcdSessionStore(admin, { namespace: ns });
    await store.create(session('first'));
    // The watch talks to one member only: killing it takes the watch stream away for sure.
    const only = ((await cluster.waitLeader()) + 1) % 3;
    const watchClient = openEtcdClient({ hosts: [cluster.clientUrls[only] ?? ''], callTimeoutMs: 1000 });
    const watch = await SessionWatch.create({ client: watchClient, namespace: ns });
    t.after(async () => {
      await watch.close();
      watchClient.close();
    });
    const events: string[] = [];
    watch.on('created', (row) => events.push(`+${row.id}`));
    watch.on('closed', (id) => events.push(`-${id}`));
    await cluster.kill(only);
    await retrying(() => store.create(session('while-away')));
    await retrying(() => store.close('first'));
    for (let i = 0; i < 20; i++)
      await retrying(() => etcdCall('put', () => admin.put(`${ns}other/${i}`).value('x').exec()));
    const rev = (await admin.get(`${ns}other/0`).exec()).header.revision;
    await admin.kv.compact({ revision: rev, physical: true });
    await cluster.restart(only);
    await until(() => events.length >= 2, 15_000, 'what happened while the watch was away');
    assert.deepEqual([...events].sort(), ['+while-away', '-first']);
    await store.create(session('after'));
    await until(() => events.includes('+after'), 5000, 'a create after the new watch');
    assert.deepEqual(
      watch.list().map((r) => r.id),
      ['while-away', 'after'],
    );
  });

  it('ignores an open-session record that does not parse or sits under another key', async (t) => {
    const ns = 'sessions-b/';
    const admin = etcd.client();
    const store = new EtcdSessionStore(admin, { namespace: ns });
    const real = await store.create(session('real'));
    await admin.put(`${ns}sess/open/mallory/junk`).value('{"id": 1');
    await admin.put(`${ns}sess/open/mallory/copy`).value(JSON.stringify(real));
    const watch = await SessionWatch.create({ client: etcd.client(), namespace: ns });
    t.after(() => watch.close());
    const created: string[] = [];
    watch.on('created', (row) => created.push(row.id));
    await admin.put(`${ns}sess/open/mallory/late`).value(JSON.stringify({ ...real, id: 'late' }));
    await store.create(session('next'));
    await until(() => created.length > 0, 5000, 'the genuine create');
    assert.deepEqual(created, ['next']);
    assert.deepEqual(
      watch.list().map((r) => r.id),
      ['real', 'next'],
    );
  });
});
