// The test-host harness: real namespaces when root, and an announced fallback
// to loopback processes otherwise (forced here, so the path is always tested).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { test } from 'node:test';
import { partition } from '../../scripts/lib/faults.js';
import { HostNetwork, namespacesAvailable } from '../../scripts/lib/host-network.js';

test('without namespaces the harness says so and falls back to loopback hosts', () => {
  const said: string[] = [];
  const net = HostNetwork.create({ loopback: true, log: (l) => said.push(l) });
  try {
    assert.equal(net.mode, 'loopback');
    assert.equal(net.serverIp, '127.0.0.1');
    assert.match(said.join('\n'), /falling back to processes on loopback/);
    const h = net.addHost('host-1');
    assert.deepEqual(h, { hostId: 'host-1', netns: null, ip: '127.0.0.1', link: null });
    // A partition needs a link to pull: refused clearly, not silently ignored.
    assert.throws(() => partition(net, 'host-1'), /no namespace/);
  } finally {
    net.close();
  }
});

test('as root, each host gets its own namespace and address on the bridge', { skip: !namespacesAvailable().ok }, () => {
  const net = HostNetwork.create();
  try {
    assert.equal(net.mode, 'netns');
    const a = net.addHost('host-a');
    const b = net.addHost('host-b');
    assert.ok(a.netns && b.netns && a.netns !== b.netns);
    assert.notEqual(a.ip, b.ip);
    assert.ok(net.partition('host-a'));
    assert.ok(net.heal('host-a'));
  } finally {
    net.close();
  }
  // Nothing is left behind.
  const left = execFileSync('ip', ['netns', 'list']).toString();
  assert.ok(!left.includes(`ls${process.pid % 10000}h`));
});
