// A real renderer node process against a hostile server (a fake /node namespace on 127.0.0.1) that answers
// its requests with malformed acks: wrong types, missing fields, huge strings, null. The node parses every
// ack (protocol/signalling.ts NodeResponseSchemas): it stays up, logs a MalformedReplyError, acts on none of
// it, and registers once the server answers properly. A registration refused for good ends the process.
import assert from 'node:assert/strict';
import { afterEach, describe, it } from 'node:test';
import { appContentHash } from '../../render/app-catalog.js';
import { FakeNodeServer, REGISTERED, registerOnly, type FakeAnswer } from '../helpers/fake-node-server.js';
import { startNode, stopAll, type Proc } from '../helpers/processes.js';
import { waitFor } from '../helpers/viewer-client.js';

const JOIN = { LOCKSTEP_JOIN_TOKEN: 'fake-join-token-000000000' };

function alive(p: Proc): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

function count(text: string, needle: string): number {
  return text.split(needle).length - 1;
}

describe("a renderer node under a hostile server's malformed replies", () => {
  let fake: FakeNodeServer | undefined;

  afterEach(async () => {
    await stopAll();
    await fake?.close();
    fake = undefined;
  });

  it('stays up through malformed register answers, logs them typed, and registers once answered properly', async () => {
    const malformed: unknown[] = [
      null,
      'x'.repeat(100_000),
      { ok: true },
      { ok: true, data: { registered: 'yes', hostId: 42 } },
      { ok: true, data: { registered: true, hostId: 'h'.repeat(1_000_000) } },
      { ok: false, error: { code: 'no-such-code', message: null } },
    ];
    fake = await FakeNodeServer.start((msg, n) =>
      msg.type === 'node.register' ? (n <= malformed.length ? malformed[n - 1] : REGISTERED) : registerOnly(msg, n),
    );
    // Resolves on the node's ready line, printed once its registration was accepted.
    const node = await startNode({ url: fake.url, hostId: 'hostile-register', env: JOIN });
    assert.ok(alive(node));
    assert.equal(fake.of('node.register').length, malformed.length + 1, 'registered on the proper answer, not before');
    const out = node.output();
    assert.ok(count(out, 'malformed reply to node.register') >= malformed.length, out.slice(-3000));
    assert.match(out, /MalformedReplyError/);
    assert.doesNotMatch(out, /uncaught|unhandled/i);
  });

  it('acts on no malformed answer once registered: heartbeats, pings, status and a replica set-up', async () => {
    const answers: Record<string, FakeAnswer> = {
      'node.heartbeat': () => null,
      'node.ping': () => 42,
      'replica.status': () => ({ ok: true, data: { headSeq: -1 } }),
      'transport.create': () => ({
        ok: true,
        data: {
          id: 'fake-transport',
          iceParameters: null,
          iceCandidates: 'not a list',
          dtlsParameters: {},
          routerRtpCapabilities: 'y'.repeat(200_000),
        },
      }),
      'replica.refuse': () => ({ ok: true, data: { ok: true } }),
    };
    let heartbeatsFixed = false;
    fake = await FakeNodeServer.start((msg, n) => {
      if (msg.type === 'node.heartbeat' && heartbeatsFixed) return { ok: true, data: { ok: true } };
      const answer = typeof msg.type === 'string' ? answers[msg.type] : undefined;
      return answer ? answer(msg, n) : registerOnly(msg, n);
    });
    const node = await startNode({
      url: fake.url,
      hostId: 'hostile-replies',
      env: { ...JOIN, LOCKSTEP_NODE_PING_INTERVAL_MS: '200' },
    });
    const socket = fake.socket;
    assert.ok(socket);
    socket.emit('notify', {
      type: 'replica.create',
      assignment: {
        replicaId: 'hostile-r1',
        sessionId: 'hostile-s1',
        app: { name: 'writer', hash: appContentHash('writer') },
        width: 320,
        height: 240,
        headSeq: 0,
        snapshot: null,
      },
    });
    // The transport's garbage never reaches mediasoup-client: the replica is refused for the malformed reply.
    const refusal = await waitFor('the replica refused', () =>
      fake?.of('replica.refuse').find((m) => m.replicaId === 'hostile-r1'),
    );
    assert.match(String(refusal.reason), /malformed reply to transport\.create/);
    assert.ok(!fake.requests.some((m) => m.type === 'transport.connect' || m.type === 'produce'), 'nothing produced');
    await waitFor('heartbeats answered null', () => (fake?.of('node.heartbeat').length ?? 0) >= 3 || undefined);
    assert.ok(alive(node));
    const out = node.output();
    assert.match(out, /malformed reply to node\.heartbeat/);
    assert.match(out, /MalformedReplyError/);
    // Answered properly again, it carries on on the same connection.
    heartbeatsFixed = true;
    const before = fake.of('node.heartbeat').length;
    await waitFor(
      'heartbeats answered properly',
      () => (fake?.of('node.heartbeat').length ?? 0) >= before + 2 || undefined,
    );
    assert.ok(alive(node));
    assert.equal(fake.of('node.register').length, 1, 'one registration throughout');
  });

  it('leaves a server that answers node.register with garbage forever for the next one in its list', async () => {
    fake = await FakeNodeServer.start((msg, n) =>
      msg.type === 'node.register' ? { ok: true, data: { registered: 'maybe' } } : registerOnly(msg, n),
    );
    const honest = await FakeNodeServer.start(registerOnly);
    try {
      // Resolves on the ready line: registered somewhere (only the honest server can accept it).
      const node = await startNode({
        url: fake.url,
        hostId: 'garbled-register',
        env: { ...JOIN, LOCKSTEP_SERVER_URL: `${fake.url},${honest.url}` },
      });
      assert.ok(alive(node));
      assert.equal(fake.of('node.register').length, 8, 'asked a bounded number of times, then left');
      assert.equal(honest.of('node.register').length, 1, 'registered at the next server');
      assert.ok(node.output().includes('registration refused by the server; leaving it'), 'says why it left');
    } finally {
      await stopAll();
      await honest.close();
    }
  });

  it('a registration refused for good ends the process with a clear message and a non-zero code', async () => {
    fake = await FakeNodeServer.start((msg, n) =>
      msg.type === 'node.register'
        ? { ok: false, error: { code: 'forbidden', message: 'this host is not admitted here' } }
        : registerOnly(msg, n),
    );
    const started = startNode({ url: fake.url, hostId: 'refused-node', env: JOIN });
    const outcome = await Promise.race([
      started.then(
        () => 'ready',
        (err: unknown) => (err instanceof Error ? err.message : String(err)),
      ),
      new Promise<string>((resolve) => setTimeout(() => resolve('still running'), 30_000)),
    ]);
    assert.match(outcome, /exited \(1\) before ready/);
    assert.match(outcome, /registration refused/);
    assert.match(outcome, /forbidden: this host is not admitted here/);
    assert.equal(fake.of('node.register').length, 1, 'not asked again');
  });

  it('a transient refusal (rate-limited) is asked again after a backoff, and the node registers', async () => {
    fake = await FakeNodeServer.start((msg, n) =>
      msg.type === 'node.register' && n === 1
        ? { ok: false, error: { code: 'rate-limited', message: 'slow down' } }
        : registerOnly(msg, n),
    );
    const node = await startNode({ url: fake.url, hostId: 'rate-limited-node', env: JOIN });
    assert.ok(alive(node));
    assert.equal(fake.of('node.register').length, 2);
  });
});
