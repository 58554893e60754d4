// Placement rules: eligibility, host spreading, preference order, shortfall.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NodeRegistry } from '../../server/session-core/node-registry.js';
import { nodeView } from '../helpers/node-view.js';
import {
  planPlacement,
  replicasToAdd,
  type NodeView,
  type PlacementRequest,
} from '../../server/session-core/placement.js';

const APP = { name: 'paint', hash: 'aaaaaaaaaaaaaaaa' };
const OTHER_VERSION = { name: 'paint', hash: 'bbbbbbbbbbbbbbbb' };

const node = (nodeId: string, over: Partial<NodeView> = {}): NodeView => nodeView(nodeId, APP, over);

function req(over: Partial<PlacementRequest> = {}): PlacementRequest {
  return { sessionId: 's1', app: APP, want: 1, excludeHosts: [], excludeAdmissions: [], ...over };
}

const ids = (nodes: NodeView[]): string[] => nodes.map((n) => n.nodeId);

test('replicasToAdd is the missing count, never negative', () => {
  assert.equal(replicasToAdd(0, 3), 3);
  assert.equal(replicasToAdd(1, 3), 2);
  assert.equal(replicasToAdd(3, 3), 0);
  assert.equal(replicasToAdd(5, 3), 0);
  assert.equal(replicasToAdd(Number.NaN, 3), 0);
});

test('only nodes that are up are chosen', () => {
  const plan = planPlacement(
    [node('a', { state: 'leaving' }), node('b', { state: 'down' }), node('c')],
    req({ want: 3 }),
  );
  assert.deepEqual(ids(plan.chosen), ['c']);
  assert.equal(plan.shortBy, 2);
  assert.ok(plan.reasons.some((r) => r.includes('node a') && r.includes('leaving')));
  assert.ok(plan.reasons.some((r) => r.includes('node b') && r.includes('down')));
});

test('a different version of the app (same name, other hash) is excluded', () => {
  const plan = planPlacement(
    [
      node('a', { apps: [OTHER_VERSION], warmApps: ['paint'] }),
      node('b', { apps: [{ name: 'chess', hash: APP.hash }] }),
      node('c'),
    ],
    req({ want: 3 }),
  );
  assert.deepEqual(ids(plan.chosen), ['c']);
  assert.equal(plan.shortBy, 2);
  assert.ok(plan.reasons.some((r) => r.includes('node a') && r.includes('lacks')));
});

test('a node with several versions is eligible when it has the exact one', () => {
  const plan = planPlacement([node('a', { apps: [OTHER_VERSION, APP] })], req());
  assert.deepEqual(ids(plan.chosen), ['a']);
});

test('full nodes are skipped; maxReplicas 0 takes nothing', () => {
  const plan = planPlacement(
    [
      node('a', { replicaCount: 4, maxReplicas: 4 }),
      node('b', { maxReplicas: 0 }),
      node('c', { replicaCount: 3, maxReplicas: 4 }),
    ],
    req({ want: 3 }),
  );
  assert.deepEqual(ids(plan.chosen), ['c']);
  assert.equal(plan.shortBy, 2);
  assert.ok(plan.reasons.some((r) => r.includes('node a') && r.includes('full')));
});

test('hosts already hosting the session are excluded, by hostId not nodeId', () => {
  const nodes = [node('a1', { hostId: 'h1' }), node('a2', { hostId: 'h1' }), node('b', { hostId: 'h2' })];
  const plan = planPlacement(nodes, req({ want: 2, excludeHosts: ['h1'] }));
  assert.deepEqual(ids(plan.chosen), ['b']);
  assert.equal(plan.shortBy, 1);
});

test('two nodes on one host never both get picked in one plan', () => {
  const nodes = [
    node('a1', { hostId: 'h1', load: 0.1 }),
    node('a2', { hostId: 'h1', load: 0.0 }),
    node('b', { hostId: 'h2', load: 0.9 }),
  ];
  const plan = planPlacement(nodes, req({ want: 3 }));
  // The better node of h1 is used, then the other host.
  assert.deepEqual(ids(plan.chosen), ['a2', 'b']);
  assert.equal(plan.shortBy, 1);
  assert.ok(plan.reasons.some((r) => r.includes('node a1') && r.includes('already chosen')));
});

test('shortBy counts what could not be placed when there are too few hosts', () => {
  const nodes = [node('a', { hostId: 'h1' }), node('b', { hostId: 'h1' }), node('c', { hostId: 'h2' })];
  const plan = planPlacement(nodes, req({ want: 5 }));
  assert.equal(plan.chosen.length, 2);
  assert.equal(plan.shortBy, 3);
  assert.match(plan.reasons[plan.reasons.length - 1] ?? '', /short by 3/);
});

test('no nodes at all: everything is short', () => {
  const plan = planPlacement([], req({ want: 2 }));
  assert.deepEqual(plan.chosen, []);
  assert.equal(plan.shortBy, 2);
});

test('want 0 (or negative) places nothing and is not short', () => {
  for (const want of [0, -2]) {
    const plan = planPlacement([node('a')], req({ want }));
    assert.deepEqual(plan.chosen, []);
    assert.equal(plan.shortBy, 0);
  }
});

test('a warm node beats a less loaded cold one', () => {
  const nodes = [node('cold', { load: 0.0 }), node('warm', { load: 0.9, warmApps: ['paint'] })];
  assert.deepEqual(ids(planPlacement(nodes, req({ want: 2 })).chosen), ['warm', 'cold']);
  assert.deepEqual(ids(planPlacement(nodes, req({ want: 1 })).chosen), ['warm']);
});

test('being warm for another app does not count', () => {
  const nodes = [node('a', { load: 0.5, warmApps: ['chess'] }), node('b', { load: 0.1 })];
  assert.deepEqual(ids(planPlacement(nodes, req()).chosen), ['b']);
});

test('lower load first, then fewer replicas per core', () => {
  const nodes = [node('x', { load: 0.7 }), node('y', { load: 0.3 }), node('z', { load: 0.5 })];
  assert.deepEqual(ids(planPlacement(nodes, req({ want: 3 })).chosen), ['y', 'z', 'x']);

  const sameLoad = [
    node('p', { load: 0.4, replicaCount: 2, cores: 2, maxReplicas: 8 }), // 1 per core
    node('q', { load: 0.4, replicaCount: 2, cores: 8, maxReplicas: 8 }), // 0.25 per core
  ];
  assert.deepEqual(ids(planPlacement(sameLoad, req({ want: 2 })).chosen), ['q', 'p']);
});

test('a non-finite load counts as fully loaded', () => {
  const nodes = [node('a', { load: Number.NaN }), node('b', { load: 0.95 })];
  assert.deepEqual(ids(planPlacement(nodes, req({ want: 2 })).chosen), ['b', 'a']);
});

test('exact ties break by nodeId, whatever the input order', () => {
  const nodes = [node('n3'), node('n1'), node('n2')];
  const forward = planPlacement(nodes, req({ want: 2 }));
  const backward = planPlacement([...nodes].reverse(), req({ want: 2 }));
  assert.deepEqual(ids(forward.chosen), ['n1', 'n2']);
  assert.deepEqual(forward, backward);
});

test('the input array is not reordered', () => {
  const nodes = [node('b', { load: 0.9 }), node('a', { load: 0.1 })];
  planPlacement(nodes, req({ want: 2 }));
  assert.deepEqual(ids(nodes), ['b', 'a']);
});

test('one join token holds at most one replica of a session, whatever host ids its nodes claim', () => {
  // Three nodes of one party (one token), each claiming another host, all idle and roomy.
  const evil = ['e1', 'e2', 'e3'].map((id) => node(id, { admissionId: 'token-evil', load: 0, maxReplicas: 100 }));
  const plan = planPlacement(
    [...evil, node('honest-1', { load: 0.9 }), node('honest-2', { load: 0.9 })],
    req({ want: 3 }),
  );
  assert.equal(plan.chosen.filter((n) => n.admissionId === 'token-evil').length, 1);
  assert.equal(plan.chosen.length, 3);
  assert.ok(plan.reasons.some((r) => r.includes('join token token-evil already chosen')));
  // And none at all once the session already has a replica admitted by that token.
  const more = planPlacement(evil, req({ want: 1, excludeAdmissions: ['token-evil'] }));
  assert.equal(more.chosen.length, 0);
});

test('an admission’s replica cap is shared by all nodes of that host token', () => {
  const registry = new NodeRegistry();
  const reg = (nodeId: string, replicas: number): void =>
    registry.add({
      nodeId,
      hostId: 'pc-1',
      admissionId: 'token-pc-1',
      admissionMaxReplicas: 3,
      apps: [APP],
      warmApps: [],
      appPolicy: { kind: 'builtin' },
      warmBundles: [],
      refusedBundles: [],
      cores: 4,
      maxReplicas: 100,
      state: 'up',
      replicas: new Map(Array.from({ length: replicas }, (_, i) => [`${nodeId}.r${i}`, `s${i}`])),
      registeredAt: 0,
      lastHeartbeatAt: 0,
      load: 0,
    });
  reg('n1', 2);
  reg('n2', 0);
  const slots = new Map(registry.views().map((v) => [v.nodeId, v.maxReplicas - v.replicaCount]));
  assert.deepEqual(Object.fromEntries(slots), { n1: 1, n2: 1 }, 'one slot left for the host, whichever node takes it');
});
