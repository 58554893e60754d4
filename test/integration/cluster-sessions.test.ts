// Several servers share the session list and their node view over etcd (real
// 3-member etcd, two server processes, one real renderer node): a session
// created on A is opened on B from the session watch and forgotten there when
// A closes it; the node homed on A is published in the cluster's node
// directory (signed, under A's lease) and leaves it when the node stops.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openNodeEntry } from '../../server/cluster/node-directory.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { startNode, startServer, stopAll } from '../helpers/processes.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const SECRET = 'cluster-sessions-test-secret-0123456789';
const NODES = 'lockstep/cluster/nodes/';

describe('several servers share sessions and nodes over etcd', () => {
  const etcd = etcdSuite(stopAll);
  after(stopAll);

  it('a session created on A is opened on B and closed there with it; A publishes its node homed on A', async () => {
    const env = { LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`, LOCKSTEP_CLUSTER_SECRET: SECRET };
    const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
    const a = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'a' } });
    const b = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'b' } });
    // Created after B started: B can only know it from the session watch.
    const viewerA = await TestViewer.connect(a.url);
    const { session } = await viewerA.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 });
    const sessionId = session.sessionId;
    const onB = await waitFor('B opened the session', async () => getSession(b.url, sessionId).catch(() => undefined));
    assert.equal(onB.sessionId, sessionId);
    assert.deepEqual(onB.app, session.app);

    const secret = ClusterSecret.fromConfig(SECRET, false);
    const directory = async () => {
      const raw = await etcd.client().getAll().prefix(NODES).strings();
      return Object.entries(raw).flatMap(([key, value]) => openNodeEntry(secret, NODES, key, value) ?? []);
    };
    const node = await startNode({
      url: a.url,
      hostId: 'host-x',
      env: { LOCKSTEP_JOIN_TOKEN: await a.hostToken('host-x') },
    });
    const entry = await waitFor('the node in the directory', async () =>
      (await directory()).find((n) => n.hostId === 'host-x'),
    );
    assert.equal(entry.homeServerId, 'a');
    await node.kill('SIGTERM');
    await waitFor('the node gone from the directory', async () =>
      (await directory()).some((n) => n.hostId === 'host-x') ? undefined : true,
    );

    await viewerA.request({ type: 'sessions.close', sessionId });
    await waitFor(
      'B forgot the session',
      async () =>
        (await getSession(b.url, sessionId)
          .then(() => false)
          .catch(() => true)) || undefined,
    );
    viewerA.close();
  });
});
