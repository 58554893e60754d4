// Limits a burst of concurrent requests must not slip past, and races a
// hostile or unlucky party can win, against a real server (SQLite, mediasoup):
// every request of a burst passed a "count, then await, then record" check
// before any was recorded, a node's late old socket took its new registration
// down, a connection's second leave of a session lost its key release, one
// session's exports could fill the server's slots, and a host's join token
// could take another host's node id.
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { LIMITS } from '../../protocol/limits.js';
import { authHeaders } from '../helpers/credentials.js';
import { RawNode } from '../helpers/node-client.js';
import { removeDir, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { placedOnRawNodes, nodeRegister } from '../helpers/raw-placement.js';
import { fetchLog } from '../helpers/reference-render.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';

const vp8 = (i: number) => ({
  mid: String(i),
  codecs: [{ mimeType: 'video/VP8', payloadType: 96, clockRate: 90000 }],
  encodings: [{ ssrc: 1000 + i }],
  rtcp: { cname: 'burst' },
});
const okCount = (results: { ok: boolean }[]) => results.filter((r) => r.ok).length;

describe('request bursts and reconnect races', () => {
  let server: ServerProc;
  const closers: (() => void)[] = [];
  // Each case's clients go when it ends, so no node of one case takes the next case's placements.
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    await new Promise((r) => setTimeout(r, 200));
  });
  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  /** Two raw nodes on two hosts, a writer session placed on them, and the first node's replica. */
  async function placedSession() {
    server ??= await startServer();
    return placedOnRawNodes(server, closers);
  }

  it('a view-only link bursting transport and consume requests gets no more than the limits', async () => {
    const { a, owner, sessionId, replicaId } = await placedSession();
    const t = (await a.raw({ type: 'transport.create', replicaId })) as { ok: true; data: { id: string } };
    const p = (await a.raw({
      type: 'produce',
      replicaId,
      transportId: t.data.id,
      kind: 'video',
      rtpParameters: vp8(0),
    })) as {
      ok: true;
      data: { producerId: string };
    };
    assert.ok(p.ok);
    const share = await owner.request({ type: 'share.create', sessionId, role: 'view' });
    const viewer = await TestViewer.connect(server.url, share.token);
    closers.push(() => viewer.close());
    const joined = await viewer.request({ type: 'session.join', sessionId, clientId: 'burst' });

    const transports = await Promise.all(
      Array.from({ length: 40 }, () => viewer.raw({ type: 'transport.create', sessionId })),
    );
    assert.equal(okCount(transports), LIMITS.maxTransportsPerViewer, 'the transport limit holds in a burst');
    const transportId = (transports.find((r) => r.ok) as { ok: true; data: { id: string } }).data.id;
    const consumers = await Promise.all(
      Array.from({ length: LIMITS.maxConsumersPerViewer * 3 }, () =>
        viewer.raw({
          type: 'consume',
          transportId,
          producerId: p.data.producerId,
          rtpCapabilities: joined.routerRtpCapabilities,
          paused: true,
        }),
      ),
    );
    assert.equal(okCount(consumers), LIMITS.maxConsumersPerViewer, 'the consumer limit holds in a burst');
    const refused = consumers.find((r) => !r.ok) as { ok: false; error: { code: string } };
    assert.equal(refused.error.code, 'rate-limited');
    const stats = (await fetch(`${server.url}/api/sessions/${sessionId}/stats`, {
      headers: authHeaders(server.url),
    }).then((r) => r.json())) as { transports: { side: string }[] };
    assert.equal(stats.transports.filter((x) => x.side === 'viewer').length, LIMITS.maxTransportsPerViewer);
  });

  it('a node gets one producer per transport; the rest are refused, not piled up in the worker', async () => {
    const { a, replicaId } = await placedSession();
    const t = (await a.raw({ type: 'transport.create', replicaId })) as { ok: true; data: { id: string } };
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        a.raw({ type: 'produce', replicaId, transportId: t.data.id, kind: 'video', rtpParameters: vp8(i) }),
      ),
    );
    assert.equal(okCount(results), 1);
    assert.equal((results.find((r) => !r.ok) as { ok: false; error: { code: string } }).error.code, 'conflict');
  });

  it('a node back on a new connection before its old one dropped stays registered when the old one closes', async () => {
    server ??= await startServer();
    const old = await RawNode.connect(server.url, await server.hostToken('h-re'));
    closers.push(() => old.close());
    const first = (await old.raw(nodeRegister('n-re', 'h-re'))) as { ok: true; data: { credential: string } };
    assert.ok(first.ok);
    const fresh = await RawNode.connect(server.url, first.data.credential);
    closers.push(() => fresh.close());
    assert.ok((await fresh.raw(nodeRegister('n-re', 'h-re'))).ok);
    // The server cuts the old connection at once instead of letting its late close unregister the node.
    await waitFor('the old connection cut', () => !old.socket.connected || undefined);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(fresh.socket.connected);
    const beat = await fresh.raw({ type: 'node.heartbeat', load: 0.1 });
    assert.ok(beat.ok, `heartbeat on the new connection: ${JSON.stringify(beat)}`);
    // Re-registering on the same connection does not cut it.
    assert.ok((await fresh.raw(nodeRegister('n-re', 'h-re'))).ok);
    await new Promise((r) => setTimeout(r, 200));
    assert.ok(fresh.socket.connected);
  });

  it('every leave of a session logs its key release, also a second leave by the same connection', async () => {
    server ??= await startServer();
    const owner = await TestViewer.connect(server.url, server.ownerToken);
    closers.push(() => owner.close());
    const made = await Promise.all(
      [0, 1].map(() => owner.request({ type: 'sessions.create', app: 'writer', width: 320, height: 240 })),
    );
    const [a, b] = made.map((m) => m.session.sessionId) as [string, string];
    await owner.request({ type: 'session.join', sessionId: a, clientId: 'leaver' });
    await owner.request({ type: 'session.join', sessionId: b, clientId: 'leaver' }); // leaves a
    await owner.request({ type: 'session.join', sessionId: a, clientId: 'leaver' }); // leaves b
    await owner.request({ type: 'session.leave', sessionId: a });
    const releases = await waitFor('two releases in a', async () => {
      const got = (await fetchLog(server.url, a)).filter((i) => i.event.type === 'release-all');
      return got.length >= 2 ? got : undefined;
    });
    assert.equal(releases.length, 2);
  });

  it('a viewer client id of the schema’s full length can send input (the logged id carries the server’s prefix)', async () => {
    server ??= await startServer();
    const owner = await TestViewer.connect(server.url, server.ownerToken);
    closers.push(() => owner.close());
    const { session } = await owner.request({ type: 'sessions.create', app: 'writer', width: 320, height: 240 });
    await owner.request({
      type: 'session.join',
      sessionId: session.sessionId,
      clientId: 'c'.repeat(LIMITS.maxIdLength),
    });
    const ack = await owner.raw({
      type: 'input',
      sessionId: session.sessionId,
      clientSeq: 0,
      event: {
        type: 'key',
        action: 'down',
        key: 'a',
        code: 'KeyA',
        text: 'a',
        mods: { shift: false, ctrl: false, alt: false, meta: false },
      },
    });
    assert.ok(ack.ok, JSON.stringify(ack));
  });

  it('a burst of joins asks the nodes for status once, not once per join', async () => {
    const { a, owner, sessionId } = await placedSession();
    const share = await owner.request({ type: 'share.create', sessionId, role: 'view' });
    const viewer = await TestViewer.connect(server.url, share.token);
    closers.push(() => viewer.close());
    const asked = () => a.notifications.filter((n) => n.type === 'replica.statusRequest').length;
    await new Promise((r) => setTimeout(r, 300)); // past the owner's own asks
    const before = asked();
    const joins = await Promise.all(
      Array.from({ length: 100 }, () => viewer.raw({ type: 'session.join', sessionId, clientId: 'v' })),
    );
    assert.equal(okCount(joins), 100);
    await new Promise((r) => setTimeout(r, 300));
    assert.ok(asked() - before <= 3, `${asked() - before} status requests for 100 joins`);
  });
  it('another host’s join token cannot take a node id over (nor revoke its credential)', async () => {
    server ??= await startServer();
    const x = await RawNode.connect(server.url, await server.hostToken('h-own'));
    const joined = (await x.raw(nodeRegister('n-bound', 'h-own'))) as { ok: true; data: { credential: string } };
    assert.ok(joined.ok);
    x.close(); // offline: the id is free to reconnect, but it is still h-own's
    await new Promise((r) => setTimeout(r, 200));
    const y = await RawNode.connect(server.url, await server.hostToken('h-other'));
    closers.push(() => y.close());
    const taken = (await y.raw(nodeRegister('n-bound', 'h-other'))) as { ok: false; error: { code: string } };
    assert.equal(taken.ok, false);
    assert.equal(taken.error.code, 'conflict');
    const back = await RawNode.connect(server.url, joined.data.credential);
    closers.push(() => back.close());
    assert.ok((await back.raw(nodeRegister('n-bound', 'h-own'))).ok, 'the owner host’s credential still works');
  });

  it('one session’s exports cannot take every export slot of the server', async () => {
    const { a, b, sessionId } = await placedSession();
    // Both replicas report, so they are live export targets; the raw nodes never answer an export.
    for (const node of [a, b]) {
      const create = await waitFor('a placement', () =>
        node.notifications.find((n) => n.type === 'replica.create' && n.assignment.sessionId === sessionId),
      );
      if (create.type !== 'replica.create') throw new Error('not a placement');
      const replicaId = create.assignment.replicaId;
      const t = (await node.raw({ type: 'transport.create', replicaId })) as { ok: true; data: { id: string } };
      assert.ok(
        (await node.raw({ type: 'produce', replicaId, transportId: t.data.id, kind: 'video', rtpParameters: vp8(0) }))
          .ok,
      );
      const status = await node.raw({
        type: 'replica.status',
        replicaId: create.assignment.replicaId,
        appliedSeq: 0,
        stateHash: '0'.repeat(16),
        framesSent: 0,
      });
      assert.ok(status.ok, JSON.stringify(status));
    }
    const abort = new AbortController();
    const asked = Array.from({ length: 12 }, () =>
      fetch(`${server.url}/api/sessions/${sessionId}/export?format=txt`, {
        headers: authHeaders(server.url),
        signal: abort.signal,
      }).then(
        (r) => r.status,
        () => 'aborted' as const,
      ),
    );
    const refused = await Promise.race([
      Promise.all(asked.slice(4)),
      new Promise<never>((_, reject) => setTimeout(() => reject(new Error('refusals did not come at once')), 5000)),
    ]).catch((err: unknown) => {
      abort.abort();
      throw err;
    });
    abort.abort();
    assert.deepEqual(
      refused,
      Array.from({ length: 8 }, () => 429),
      'past 4 in flight, a session’s exports are refused',
    );
    assert.deepEqual(await Promise.all(asked.slice(0, 4)), ['aborted', 'aborted', 'aborted', 'aborted']);
  });

  it('a burst of share creates issues no more links than the per-owner limit', async () => {
    server ??= await startServer();
    const owner = await TestViewer.connect(server.url, server.ownerToken);
    closers.push(() => owner.close());
    const { session } = await owner.request({ type: 'sessions.create', app: 'writer', width: 320, height: 240 });
    const activeShares = async (): Promise<number> => {
      const res = await fetch(`${server.url}/api/tokens`, { headers: authHeaders(server.url) });
      const body = (await res.json()) as { tokens: { kind: string }[] };
      return body.tokens.filter((t) => t.kind === 'share').length;
    };
    const before = await activeShares(); // links the other cases made (this case runs last)
    const results = await Promise.all(
      Array.from({ length: LIMITS.maxActiveSharesPerOwner + 40 }, () =>
        owner.raw({ type: 'share.create', sessionId: session.sessionId, role: 'view' }),
      ),
    );
    assert.equal(okCount(results), LIMITS.maxActiveSharesPerOwner - before);
    assert.equal(await activeShares(), LIMITS.maxActiveSharesPerOwner);
    assert.equal((results.find((r) => !r.ok) as { ok: false; error: { code: string } }).error.code, 'forbidden');
  });
});
