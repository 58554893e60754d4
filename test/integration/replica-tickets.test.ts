// A node can claim back (after a server death) only a replica a server placed
// on its own admission: the ticket handed out with replica.create is checked
// at registration, before the adoption rule sees the claim. Another host that
// replays a stolen ticket, or forges one for a guessed replica id of a session
// short of replicas, is refused and logged.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { HeldReplica, NodeNotification } from '../../protocol/signalling.js';
import { appContentHash } from '../../render/app-catalog.js';
import { RawNode } from '../helpers/node-client.js';
import { removeDir, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';

type Create = Extract<NodeNotification, { type: 'replica.create' }>;
const APP = { name: 'writer', hash: appContentHash('writer') };
const HASH = '0123456789abcdef';

describe('replica tickets', () => {
  let server: ServerProc | undefined;
  const clients: Array<{ close(): void }> = [];

  after(async () => {
    for (const c of clients) c.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  const register = (node: RawNode, nodeId: string, hostId: string, held?: HeldReplica[]) =>
    node.raw({
      type: 'node.register',
      nodeId,
      hostId,
      apps: [APP],
      capacity: { cores: 8, maxReplicas: 10 },
      ...(held ? { held } : {}),
    });

  it('adopts a held replica only with a ticket issued to the same admission', async () => {
    server = await startServer();
    const viewer = await TestViewer.connect(server.url);
    clients.push(viewer);
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 3,
      width: 320,
      height: 240,
    });
    const hostToken = await server.hostToken('host-h');
    let honest = await RawNode.connect(server.url, hostToken);
    clients.push(honest);
    assert.equal((await register(honest, 'node-h', 'host-h')).ok, true);
    const placed = await waitFor('a placement with its ticket on the honest node', () =>
      honest.notifications.find(
        (n): n is Create => n.type === 'replica.create' && n.assignment.sessionId === session.sessionId,
      ),
    );
    const ticket = placed.ticket;
    assert.ok(ticket, 'replica.create carries a ticket');
    const claim = (replicaId: string, t: string): HeldReplica => ({
      replicaId,
      sessionId: session.sessionId,
      app: APP,
      appliedSeq: 0,
      stateHash: HASH,
      ticket: t,
    });

    // Another host replays the honest node's ticket, and forges one for a replica id never placed.
    const thief = await RawNode.connect(server.url, await server.hostToken('host-t'));
    clients.push(thief);
    const stolen = await register(thief, 'node-t', 'host-t', [
      claim(placed.assignment.replicaId, ticket),
      claim(`${session.sessionId}.r7`, 'A'.repeat(43)),
    ]);
    assert.equal(stolen.ok, true);
    assert.deepEqual(stolen.ok ? ((stolen.data as { adopted?: unknown[] }).adopted ?? []) : null, []);
    await waitFor(
      'both refusals logged',
      () => server!.output().split('refused a held replica without a valid ticket').length - 1 >= 2,
    );

    // The honest node loses its connection and comes back holding its replica: adopted, same id.
    honest.close();
    const replicaId = placed.assignment.replicaId;
    honest = await RawNode.connect(server.url, hostToken);
    clients.push(honest);
    const back = await waitFor('the honest node registered again', async () => {
      const res = await register(honest, 'node-h', 'host-h', [claim(replicaId, ticket)]);
      return res.ok ? (res.data as { adopted?: Array<{ replicaId: string }> }) : undefined;
    });
    assert.deepEqual(
      (back.adopted ?? []).map((a) => a.replicaId),
      [replicaId],
    );
  });
});
