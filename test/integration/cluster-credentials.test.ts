// Two servers on one real 3-member etcd keep their credentials there: any
// server accepts any valid token, and a token or host admission revoked
// through one server is refused by the other (new connections and REST at
// once, live connections at its next re-check).
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { etcdSuite, until } from '../helpers/etcd-suite.js';
import { authHeaders } from '../helpers/credentials.js';
import { startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { TestViewer } from '../helpers/viewer-client.js';

async function status(server: ServerProc, path: string, token: string): Promise<number> {
  return (await fetch(`${server.url}${path}`, { headers: authHeaders(server.url, token) })).status;
}

async function post(
  server: ServerProc,
  path: string,
  body: unknown,
  token = server.ownerToken,
): Promise<Record<string, unknown>> {
  const res = await fetch(`${server.url}${path}`, {
    method: 'POST',
    headers: { ...authHeaders(server.url, token), 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  assert.equal(res.status, 200, `${path}: ${await res.clone().text()}`);
  return (await res.json()) as Record<string, unknown>;
}

describe('credentials in etcd, shared by two servers', () => {
  const etcd = etcdSuite(stopAll);
  const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
  let a: ServerProc;
  let b: ServerProc;

  it('a token minted through one server works on the other; revoked through it, the other refuses it', async () => {
    const env = {
      LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`,
      LOCKSTEP_CLUSTER_SECRET: 'credentials-test-cluster-secret-0123456789',
    };
    a = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'a' } });
    b = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'b' } });
    // The operator token of the cluster is valid on both.
    assert.equal(await status(a, '/api/tokens', a.ownerToken), 200);
    assert.equal(await status(b, '/api/tokens', a.ownerToken), 200);

    const alice = await post(a, '/api/owners', { owner: 'alice' });
    const token = String(alice.token);
    assert.equal(await status(b, '/api/tokens', token), 200, 'minted on a, valid on b');
    const live = await TestViewer.connect(b.url, token);
    let dropped = false;
    live.socket.on('disconnect', () => (dropped = true));

    // Alice revokes her own token through a.
    await post(a, '/api/tokens/revoke', { id: alice.id }, token);
    assert.equal(await status(b, '/api/tokens', token), 401, 'revoked on a, refused by b at once');
    await assert.rejects(TestViewer.connect(b.url, token), /unauthorized/);
    // b's live connection with it ends at b's next re-check (every 10 s).
    await until(() => dropped, 20_000, "b to drop the revoked token's live connection");
    live.close();
  });

  it('a host admitted through one server joins through the other until revoked through either', async () => {
    const admitted = await post(b, '/api/hosts', { host: 'pc-x' });
    const joinToken = String(admitted.token);
    // GET /api/servers takes a node's join token: the cheapest authenticated probe of it.
    assert.equal(await status(a, '/api/servers', joinToken), 200);
    const hostsOnA = (await (await fetch(`${a.url}/api/hosts`, { headers: authHeaders(a.url) })).json()) as {
      hosts: { hostId: string }[];
    };
    assert.deepEqual(
      hostsOnA.hosts.map((h) => h.hostId),
      ['pc-x'],
    );
    const again = await fetch(`${a.url}/api/hosts`, {
      method: 'POST',
      headers: { ...authHeaders(a.url), 'content-type': 'application/json' },
      body: JSON.stringify({ host: 'pc-x' }),
    });
    assert.equal(again.status, 409, 'one active join token per host, cluster-wide');
    await post(a, '/api/hosts/revoke', { host: 'pc-x' });
    assert.equal(await status(b, '/api/servers', joinToken), 401);
    assert.equal(await status(a, '/api/servers', joinToken), 401);
  });
});
