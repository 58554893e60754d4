// A node the server forgot while its connection stayed open (what an older
// connection's late close did before request-bursts.test.ts's fix, and what
// any such bug would do) registers again: a real server (SQLite, mediasoup;
// in this process, so the test can make it forget) and a real renderer
// process. Every request the node sends on that connection is refused as
// `forbidden` with `registered: false`; the node leaves it as if it had
// dropped and registers on a new one (after the rotation's backoff), instead
// of heartbeating into the void while its replicas are re-placed elsewhere.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { LockstepServer } from '../../server/lockstep-server.js';
import { startNode, stopAll } from '../helpers/processes.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';

describe('a node the server forgot', () => {
  let server: LockstepServer | undefined;
  after(async () => {
    await stopAll();
    await server?.close();
  });

  it('registers again on a new connection, and takes replicas again', async () => {
    const dataDir = makeTmpDir({ after }, 'lockstep-reregister-');
    server = await LockstepServer.create({ port: 0, dataDir });
    const s = server;
    const joinToken = (await s.access.hosts.issue('host-r')).secret;
    await startNode({ url: s.url, hostId: 'host-r', env: { LOCKSTEP_JOIN_TOKEN: joinToken } });
    const first = await waitFor('the node registered', () => s.manager.nodes.get('host-r'));

    // The server forgets the node; its connection stays open.
    s.manager.nodeGone('host-r', 'forgotten (test)');
    assert.equal(s.manager.nodes.get('host-r'), undefined);
    const again = await waitFor('the node registered again', () => s.manager.nodes.get('host-r'), 15_000);
    assert.notEqual(again.disconnect, first.disconnect, 'on a new connection');
    assert.ok(s.manager.nodes.get('host-r'), 'and it stays registered (its heartbeats are accepted)');

    // And it is a working node again: a new session's replica is placed on it and goes live.
    const owner = await TestViewer.connect(s.url, s.config.security.ownerToken ?? s.newOwnerToken ?? '');
    const { session } = await owner.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: 320,
      height: 240,
    });
    owner.close();
    await waitFor(
      'a live replica on the node',
      () => s.manager.info(session.sessionId).replicas.some((r) => r.nodeId === 'host-r' && r.state === 'live'),
      30_000,
    );
    await new Promise((r) => setTimeout(r, 2500));
    assert.ok(s.manager.nodes.get('host-r'), 'still registered after a few heartbeats');
  });
});
