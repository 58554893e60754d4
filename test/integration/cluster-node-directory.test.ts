// The cluster node directory on a real 3-member etcd: each server publishes
// its nodes under its registry lease and sees every server's; a server's
// nodes vanish when it dies (its lease expires) and come back when it takes a
// new lease; forged or misfiled entries are never listed.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { ROOT } from '../../scripts/lib/launcher.js';
import { NodeDirectory } from '../../server/cluster/node-directory.js';
import { ServerRegistry } from '../../server/cluster/server-registry.js';
import { sealEntry } from '../helpers/sealed-entries.js';
import { ClusterNodeInfoSchema } from '../../protocol/cluster-state.js';
import { BadRequestError } from '../../server/errors.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';
import { clusterNode as node, clusterServer as server } from '../helpers/node-view.js';

const SECRET_TEXT = 'node-directory-test-secret-0123456789';
const SECRET = ClusterSecret.fromConfig(SECRET_TEXT, false);
const ids = (d: NodeDirectory): string =>
  d
    .list()
    .map((n) => `${n.nodeId}@${n.homeServerId}`)
    .join();

describe('cluster node directory on a real 3-member etcd', () => {
  const etcd = etcdSuite();

  async function member(
    ns: string,
    id: string,
    client = etcd.client(),
  ): Promise<{ reg: ServerRegistry; dir: NodeDirectory }> {
    const reg = await ServerRegistry.create({ client, namespace: ns, self: server(id), secret: SECRET, ttlSeconds: 1 });
    const dir = await NodeDirectory.create({ client, namespace: ns, registry: reg, secret: SECRET });
    return { reg, dir };
  }

  it("every server sees the whole cluster's nodes; a dead server's nodes vanish with its lease", async (t) => {
    const ns = 'nodes-a/';
    const a = await member(ns, 'a');
    const b = await member(ns, 'b');
    t.after(async () => {
      for (const m of [a, b]) {
        await m.dir.close();
        await m.reg.close();
      }
    });
    await a.dir.publish(node('n1', 'a'));
    await b.dir.publish(node('n2', 'b'));
    await until(() => ids(a.dir) === 'n1@a,n2@b' && ids(b.dir) === 'n1@a,n2@b', 5000, 'both to see both nodes');
    await assert.rejects(a.dir.publish(node('n9', 'b')), BadRequestError);

    const updates: number[] = [];
    b.dir.on('node', (n) => {
      if (n.nodeId === 'n1') updates.push(n.load);
    });
    await a.dir.publish(node('n1', 'a', 0.7));
    await a.dir.publish(node('n1', 'a', 0.7)); // unchanged: not written again
    await until(() => updates.length > 0, 5000, 'the load update');
    await new Promise((r) => setTimeout(r, 200));
    assert.deepEqual(updates, [0.7]);
    // Updates fired without waiting: written one at a time, superseded ones skipped; the newest is what everyone gets.
    await Promise.all([0.2, 0.3, 0.4].map((load) => a.dir.publish(node('n1', 'a', load))));
    await until(() => updates.at(-1) === 0.4, 5000, 'the newest load');
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(updates.at(-1), 0.4);
    assert.deepEqual(updates, [0.7, 0.4]);

    // Server c is a process; SIGKILLed, it sends no more keepalives: its lease expires and n3 goes everywhere.
    const c = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'test/helpers/node-publisher.ts')], {
      env: {
        ...process.env,
        LOCKSTEP_ETCD_HOSTS: etcd.cluster().clientUrls.join(','),
        LOCKSTEP_ETCD_NAMESPACE: ns,
        LOCKSTEP_CLUSTER_SECRET: SECRET_TEXT,
        LOCKSTEP_SERVER_ID: 'c',
        LOCKSTEP_NODE_INFO: JSON.stringify(node('n3', 'c')),
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const exited = new Promise((r) => c.once('exit', r));
    t.after(async () => {
      c.kill('SIGKILL');
      await exited;
    });
    await until(() => ids(a.dir) === 'n1@a,n2@b,n3@c', 20_000, "the other process's node");
    const gone: string[] = [];
    b.dir.on('nodeGone', (n) => gone.push(n.nodeId));
    c.kill('SIGKILL');
    await exited;
    await until(() => ids(b.dir) === 'n1@a,n2@b', 6000, "the dead server's node to vanish");
    assert.deepEqual(gone, ['n3']);
  });

  it('publishes again when the registry lease is lost and retaken; unpublish removes at once', async (t) => {
    const ns = 'nodes-b/';
    const admin = etcd.client();
    const a = await member(ns, 'a');
    t.after(async () => {
      await a.dir.close();
      await a.reg.close();
    });
    await a.dir.publish(node('n1', 'a'));
    await a.dir.publish(node('n2', 'a'));
    await until(() => ids(a.dir) === 'n1@a,n2@a', 5000, 'its nodes');
    const kv = (await admin.get(`${ns}cluster/nodes/a/n1`).exec()).kvs[0];
    assert.ok(kv);
    const seen: string[] = [];
    a.dir.on('nodeGone', (n) => seen.push(`-${n.nodeId}`));
    a.dir.on('node', (n) => seen.push(`+${n.nodeId}`));
    await admin.leaseClient.leaseRevoke({ ID: kv.lease }); // as etcd does when it expires it
    await until(() => seen.filter((s) => s.startsWith('+')).length === 2, 10_000, 'the nodes back');
    assert.ok(seen.includes('-n1') && seen.includes('-n2'), seen.join());
    const again = (await admin.get(`${ns}cluster/nodes/a/n1`).exec()).kvs[0];
    assert.ok(again && again.lease !== kv.lease && again.lease !== '0');
    await a.dir.unpublish('n2');
    await until(() => ids(a.dir) === 'n1@a', 2000, 'n2 gone');
  });

  it('never lists a forged entry, nor a genuine one copied under another key', async (t) => {
    const ns = 'nodes-c/';
    const admin = etcd.client();
    const forger = ClusterSecret.fromConfig('not-the-cluster-secret-0123456789abc', false);
    const prefix = `${ns}cluster/nodes/`;
    await admin
      .put(`${prefix}x/evil`)
      .value(sealEntry(forger, 'node-entry', `${prefix}x/evil`, ClusterNodeInfoSchema, node('evil', 'x')));
    await admin.put(`${prefix}x/junk`).value('{"payload": 3}');
    const genuine = sealEntry(SECRET, 'node-entry', `${prefix}x/real`, ClusterNodeInfoSchema, node('real', 'x'));
    await admin.put(`${prefix}x/real`).value(genuine);
    await admin.put(`${prefix}y/real`).value(genuine);
    const a = await member(ns, 'a');
    t.after(async () => {
      await a.dir.close();
      await a.reg.close();
    });
    await admin
      .put(`${prefix}x/evil2`)
      .value(sealEntry(forger, 'node-entry', `${prefix}x/evil2`, ClusterNodeInfoSchema, node('evil2', 'x')));
    await a.dir.publish(node('mine', 'a'));
    await until(() => ids(a.dir).includes('mine@a'), 5000, 'its own node');
    assert.equal(ids(a.dir), 'mine@a,real@x');
  });
});
