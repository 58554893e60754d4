// Cluster placement: replicas over different hosts and, where possible,
// different home servers (planHomeSpread).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { planHomeSpread, type ClusterNodeView, type HomeSpreadRequest } from '../../server/cluster/home-spread.js';

const APP = { name: 'writer', hash: '0123456789abcdef' };

function node(
  nodeId: string,
  hostId: string,
  homeServerId: string,
  extra: Partial<ClusterNodeView> = {},
): ClusterNodeView {
  return {
    nodeId,
    hostId,
    admissionId: `adm-${hostId}`,
    homeServerId,
    warmApps: ['writer'],
    cores: 4,
    maxReplicas: 4,
    replicaCount: 0,
    load: 0.1,
    state: 'up',
    apps: [APP],
    appPolicy: { kind: 'builtin' },
    warmBundles: [],
    refusedBundles: [],
    ...extra,
  };
}

const req = (want: number, more: Partial<HomeSpreadRequest> = {}): HomeSpreadRequest => ({
  sessionId: 's',
  app: APP,
  want,
  excludeHosts: [],
  excludeAdmissions: [],
  excludeHomes: [],
  ...more,
});
const picked = (nodes: ClusterNodeView[], r: HomeSpreadRequest): string[] =>
  planHomeSpread(nodes, r).chosen.map((n) => n.nodeId);

describe('planHomeSpread', () => {
  it('prefers a node on an unused home server over a less loaded one on a used home', () => {
    const nodes = [
      node('a1', 'h1', 'A', { load: 0.0 }),
      node('a2', 'h2', 'A', { load: 0.0 }),
      node('b1', 'h3', 'B', { load: 0.9 }),
      node('c1', 'h4', 'C', { load: 0.5 }),
    ];
    assert.deepEqual(picked(nodes, req(3)), ['a1', 'c1', 'b1']);
    const plan = planHomeSpread(nodes, req(3));
    assert.equal(plan.sharedHomes, 0);
    assert.equal(plan.shortBy, 0);
  });

  it('keeps hosts distinct even when that means sharing a home, and says so', () => {
    // Two home servers, three hosts: the third replica must share a home.
    const nodes = [node('a1', 'h1', 'A'), node('a2', 'h1', 'A'), node('b1', 'h2', 'B'), node('b2', 'h3', 'B')];
    const plan = planHomeSpread(nodes, req(3));
    assert.deepEqual(
      plan.chosen.map((n) => n.nodeId),
      ['a1', 'b1', 'b2'],
    );
    assert.equal(new Set(plan.chosen.map((n) => n.hostId)).size, 3);
    assert.equal(plan.sharedHomes, 1);
    assert.ok(plan.reasons.some((r) => r.includes('shares home server B')));
  });

  it('counts homes and hosts the session already uses', () => {
    const nodes = [node('a1', 'h1', 'A', { load: 0 }), node('b1', 'h2', 'B', { load: 0.5 }), node('c1', 'h3', 'C')];
    assert.deepEqual(picked(nodes, req(1, { excludeHomes: ['A'] })), ['c1']);
    // c1's host is taken, so the second replica has to share B with the existing one.
    assert.deepEqual(picked(nodes, req(2, { excludeHosts: ['h3'], excludeHomes: ['B'] })), ['a1', 'b1']);
  });

  it('comes up short with the reasons when no host is left', () => {
    const nodes = [
      node('a1', 'h1', 'A'),
      node('b1', 'h1', 'B', { admissionId: 'other' }),
      node('c1', 'h2', 'C', { state: 'down' }),
    ];
    const plan = planHomeSpread(nodes, req(3));
    assert.deepEqual(
      plan.chosen.map((n) => n.nodeId),
      ['a1'],
    );
    assert.equal(plan.shortBy, 2);
    assert.ok(plan.reasons.some((r) => r.includes('state down')));
    assert.ok(plan.reasons.some((r) => r.includes('short by')));
  });

  it('one replica per admission across home servers (a party cannot collect replicas by homing nodes apart)', () => {
    const nodes = [node('x1', 'h1', 'A', { admissionId: 'eve' }), node('x2', 'h2', 'B', { admissionId: 'eve' })];
    assert.deepEqual(picked(nodes, req(2)), ['x1']);
    assert.deepEqual(picked(nodes, req(0)), []);
  });
});
