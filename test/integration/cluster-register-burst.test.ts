// A burst of node.register on one connection, where registering awaits real
// I/O (credentials in a real 3-member etcd, cluster mode): every request passed
// the "this connection registers one node id" check before any was recorded,
// so one join-token connection registered a node (and got a credential) per
// request, each left registered by nobody when the connection closed. Now the
// connection registers one node; the rest are refused.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { authHeaders } from '../helpers/credentials.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { RawNode } from '../helpers/node-client.js';
import { startServer, stopAll } from '../helpers/processes.js';
import { nodeRegister } from '../helpers/raw-placement.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

describe('registrations on one connection, with credentials in etcd', () => {
  const etcd = etcdSuite(stopAll);
  const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };

  it('one connection registers one node, also in a burst of registrations with distinct node ids', async () => {
    const server = await startServer({
      dataDir: makeTmpDir(hooks),
      env: {
        LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`,
        LOCKSTEP_CLUSTER_SECRET: 'register-burst-test-cluster-secret-0123456789',
        LOCKSTEP_SERVER_ID: 'a',
      },
    });
    const x = await RawNode.connect(server.url, await server.hostToken('h-burst'));
    after(() => x.close());
    const results = await Promise.all(
      Array.from({ length: 10 }, (_, i) => x.raw(nodeRegister(`n-burst-${i}`, 'h-burst'))),
    );
    assert.equal(results.filter((r) => r.ok).length, 1, 'one registration per connection');
    // Refused while the first is under way (conflict), or after it (this connection is that node: bad-request).
    const codes = new Set(results.flatMap((r) => (r.ok ? [] : [(r as { error: { code: string } }).error.code])));
    assert.ok(
      [...codes].every((c) => c === 'conflict' || c === 'bad-request'),
      [...codes].join(),
    );
    const listed = (await fetch(`${server.url}/api/nodes`, { headers: authHeaders(server.url) }).then((r) =>
      r.json(),
    )) as { credentials: { nodeId: string | null; connected: boolean }[] };
    const burst = listed.credentials.filter((c) => c.nodeId?.startsWith('n-burst-'));
    assert.deepEqual(
      burst.map((c) => c.connected),
      [true],
      'one credential issued, one node registered',
    );
  });
});
