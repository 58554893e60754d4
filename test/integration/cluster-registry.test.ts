// The server registry on a real 3-member etcd: servers join and leave, a dead
// server's entry disappears when its lease expires, an entry without the
// cluster secret's MAC is never listed, and `lockstep server --store etcd:`
// registers itself, answers GET /api/servers to a valid token only, and
// refuses to start without LOCKSTEP_CLUSTER_SECRET.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ServersResponseSchema, type ServerInfo } from '../../protocol/cluster.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { sealServerEntry, ServerRegistry } from '../../server/cluster/server-registry.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';
import { authHeaders } from '../helpers/credentials.js';
import { startServer, stopAll } from '../helpers/processes.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

const SECRET = ClusterSecret.fromConfig('registry-test-secret-0123456789abcdef', false);

const info = (id: string): ServerInfo => ({ id, url: `http://${id}.test:3000`, sfuCapacity: 8, startedAt: 1 });
const ids = (r: ServerRegistry): string[] => r.list().map((s) => s.id);

describe('server registry on a real 3-member etcd', () => {
  const etcd = etcdSuite(stopAll);
  const client = etcd.client;
  const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };

  it('servers learn each other and see a clean leave at once (a dead one: below, a SIGKILLed server)', async () => {
    const ns = 'registry-a/';
    const opts = (id: string) => ({ client: client(), namespace: ns, self: info(id), secret: SECRET, ttlSeconds: 1 });
    const a = await ServerRegistry.create(opts('a'));
    const b = await ServerRegistry.create(opts('b'));
    const c = await ServerRegistry.create(opts('c'));
    try {
      await until(() => ids(a).join() === 'a,b,c' && ids(c).join() === 'a,b,c', 5000, 'everyone to see a, b, c');
      assert.deepEqual(a.list()[1], info('b'));
      await c.close();
      await until(() => ids(a).join() === 'a,b', 2000, 'a to see c leave');
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  it('never lists an entry that fails the cluster-secret check, and re-lists in pages', async () => {
    const ns = 'registry-b/';
    const admin = client();
    const forger = ClusterSecret.fromConfig('not-the-cluster-secret-0123456789abc', false);
    await admin.put(`${ns}cluster/servers/evil`).value(sealServerEntry(forger, info('evil')));
    await admin.put(`${ns}cluster/servers/junk`).value('{not json');
    await admin.put(`${ns}cluster/servers/other`).value(sealServerEntry(SECRET, info('not-other')));
    for (const id of ['p1', 'p2', 'p3', 'p4', 'p5']) {
      await admin.put(`${ns}cluster/servers/${id}`).value(sealServerEntry(SECRET, info(id)));
    }
    const r = await ServerRegistry.create({
      client: client(),
      namespace: ns,
      self: info('me'),
      secret: SECRET,
      pageSize: 2,
    });
    try {
      await until(() => ids(r).includes('me'), 3000, 'its own entry');
      assert.deepEqual(ids(r), ['me', 'p1', 'p2', 'p3', 'p4', 'p5']);
      await admin.put(`${ns}cluster/servers/evil2`).value(sealServerEntry(forger, info('evil2')));
      await admin.delete().key(`${ns}cluster/servers/p3`);
      await until(() => !ids(r).includes('p3'), 3000, 'p3 deleted');
      assert.deepEqual(ids(r), ['me', 'p1', 'p2', 'p4', 'p5']);
    } finally {
      await r.close();
    }
  });

  it('lockstep server --store etcd: registers, serves GET /api/servers to a token, drops a SIGKILLed peer', async () => {
    const env = {
      LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`,
      LOCKSTEP_CLUSTER_SECRET: 'server-test-cluster-secret-0123456789',
    };
    await assert.rejects(
      startServer({ dataDir: makeTmpDir(hooks), env: { LOCKSTEP_STORE: env.LOCKSTEP_STORE } }),
      /LOCKSTEP_CLUSTER_SECRET is required/,
    );
    const s1 = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'one' } });
    const s2 = await startServer({
      dataDir: makeTmpDir(hooks),
      env: { ...env, LOCKSTEP_SERVER_ID: 'two', LOCKSTEP_ADVERTISE: 'http://two.example:3000' },
    });
    const servers = async (): Promise<ServerInfo[]> => {
      const res = await fetch(`${s1.url}/api/servers`, { headers: authHeaders(s1.url) });
      assert.equal(res.status, 200);
      return ServersResponseSchema.parse(await res.json()).servers;
    };
    await until(async () => (await servers()).length === 2, 5000, 'both servers listed');
    const [one, two] = await servers();
    assert.equal(one?.id, 'one');
    assert.equal(one?.url, s1.url);
    assert.equal(two?.url, 'http://two.example:3000');
    assert.equal((await fetch(`${s1.url}/api/servers`)).status, 401);
    assert.equal(
      (await fetch(`${s1.url}/api/servers`, { headers: { authorization: 'Bearer lso_wrongwrongwrongwrongwrong' } }))
        .status,
      401,
    );
    await s2.kill('SIGKILL');
    await until(async () => (await servers()).length === 1, 8000, "the killed server's entry to expire");
    assert.equal((await servers())[0]?.id, 'one');
  });
});
