// Raw nodes (node-client.ts) with a session placed on them, for the tests of
// requests at the node and viewer socket boundaries: the register message a
// raw node sends, and two raw nodes on two hosts holding a writer session.
import assert from 'node:assert/strict';
import { appContentHash } from '../../render/app-catalog.js';
import { RawNode } from './node-client.js';
import type { ServerProc } from './processes.js';
import { TestViewer, waitFor } from './viewer-client.js';

/** A node.register of a node that runs the built-in writer. */
export const nodeRegister = (nodeId: string, hostId: string) => ({
  type: 'node.register',
  nodeId,
  hostId,
  apps: [{ name: 'writer', hash: appContentHash('writer') }],
  capacity: { cores: 4, maxReplicas: 10 },
});

/**
 * Two raw nodes on two fresh hosts, a writer session (R = 2) placed on them, and node a's replica; `closers`
 * gets what to close when the case ends (so no node of one case takes the next case's placements).
 */
export async function placedOnRawNodes(server: ServerProc, closers: (() => void)[]) {
  const tag = Math.random().toString(36).slice(2, 8);
  const a = await RawNode.connect(server.url, await server.hostToken(`ha-${tag}`));
  const b = await RawNode.connect(server.url, await server.hostToken(`hb-${tag}`));
  closers.push(
    () => a.close(),
    () => b.close(),
  );
  assert.ok((await a.raw(nodeRegister(`na-${tag}`, `ha-${tag}`))).ok);
  assert.ok((await b.raw(nodeRegister(`nb-${tag}`, `hb-${tag}`))).ok);
  const owner = await TestViewer.connect(server.url, server.ownerToken);
  closers.push(() => owner.close());
  const { session } = await owner.request({
    type: 'sessions.create',
    app: 'writer',
    replicationFactor: 2,
    width: 320,
    height: 240,
  });
  const create = await waitFor('a placement on node a', () =>
    a.notifications.find((n) => n.type === 'replica.create' && n.assignment.sessionId === session.sessionId),
  );
  assert.equal(create.type, 'replica.create');
  return { a, b, owner, sessionId: session.sessionId, replicaId: create.assignment.replicaId };
}
