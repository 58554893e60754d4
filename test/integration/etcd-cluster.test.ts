// The local etcd launcher's restarts and reports, on a real 3-member etcd:
// members restarted together give each other the quorum back (the CI flake
// of input-log-contract: restart(0) waited on member 2 alone, which had
// gone), a member that exits unasked is named with its signal and output,
// and a restart that cannot work fails fast or says why.
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { EtcdCluster, EtcdClusterError } from '../../server/log/etcd-cluster.js';

describe('EtcdCluster restarts', () => {
  let cluster: EtcdCluster;
  before(async () => {
    cluster = await EtcdCluster.create({ members: 3, startTimeoutMs: 8000 });
  });
  after(async () => {
    await cluster.close();
  });

  it('restarts two stopped members together even when the third crashed meanwhile, and names the crash', async () => {
    await Promise.all([cluster.stop(0), cluster.stop(1)]);
    const pid = cluster.members()[2]?.pid;
    assert.ok(typeof pid === 'number');
    // An outside kill of the last running member (as the OOM killer or a stray kill would).
    process.kill(pid, 'SIGKILL');
    while (cluster.isRunning(2)) await new Promise((r) => setTimeout(r, 10));
    assert.deepEqual(cluster.stopped(), [0, 1, 2]);

    const started = Date.now();
    await cluster.restart(0, 1);
    assert.ok(Date.now() - started < 8000);
    const report = cluster.report();
    assert.match(report, /etcd-0: running \(pid \d+\)/);
    assert.match(report, /etcd-2: EXITED UNASKED \(signal SIGKILL, [\d.]+ s ago\)/);
    assert.deepEqual(
      cluster.unaskedExits().map((e) => [e.name, e.exit.signal, e.exit.requested]),
      [['etcd-2', 'SIGKILL', false]],
    );
    assert.ok((cluster.unaskedExits()[0]?.output.length ?? 0) > 0, 'the crashed run output is kept');

    await cluster.restart(...cluster.stopped());
    await cluster.waitHealthy();
    assert.deepEqual(cluster.stopped(), []);
    assert.deepEqual(cluster.unaskedExits(), [], 'running again: no longer a crash to report');
  });

  it('a stop on request is not reported as a crash', async () => {
    await cluster.stop(1);
    assert.match(
      cluster.report(),
      /etcd-1: stopped on request \(exit code 0|etcd-1: stopped on request \(signal SIGTERM/,
    );
    assert.deepEqual(cluster.unaskedExits(), []);
    await cluster.restart(1);
    await cluster.waitHealthy();
  });

  it('fails at once, with the member output, when a restarted member cannot take its port', async (t) => {
    await cluster.stop(0);
    const url = new URL(cluster.members()[0]?.clientUrl ?? '');
    // Another process's listener on its client port (connections dropped, so close() does not wait on them).
    const squatter: Server = createServer((socket) => socket.destroy());
    await new Promise<void>((resolve, reject) => {
      squatter.once('error', reject);
      squatter.listen(Number(url.port), url.hostname, resolve);
    });
    t.after(async () => {
      await new Promise<void>((r) => squatter.close(() => r()));
      await cluster.restart(0);
      await cluster.waitHealthy();
    });
    const started = Date.now();
    await assert.rejects(
      () => cluster.restart(0),
      (err: unknown) =>
        err instanceof EtcdClusterError &&
        /etcd-0 exited while restarting/.test(err.message) &&
        /EXITED UNASKED \(exit code 1/.test(err.message) &&
        /address already in use/.test(err.message),
    );
    assert.ok(Date.now() - started < 5000, `failed fast (${Date.now() - started} ms), not at the timeout`);
  });

  it('a member restarted alone without a quorum times out naming every member', async () => {
    await Promise.all([cluster.stop(0), cluster.stop(1)]);
    await cluster.stop(2);
    await assert.rejects(
      () => cluster.restart(0),
      (err: unknown) =>
        err instanceof EtcdClusterError &&
        /etcd-0 not healthy 8000 ms after restart \(no quorum\?\)/.test(err.message) &&
        /etcd-1: stopped on request/.test(err.message) &&
        /etcd-2: stopped on request/.test(err.message),
    );
    await cluster.restart(1, 2);
    await cluster.waitHealthy();
    assert.deepEqual(cluster.stopped(), []);
  });
});
