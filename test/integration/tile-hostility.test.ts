// Hostile and unlucky parties at the tile display's socket boundaries, against
// a real server (SQLite, mediasoup with SCTP): a node bursting produceData on
// its transport got one display channel per request (every request passed the
// "has none yet" check before any was recorded), and a viewer whose
// tiles.consume raced its own session.leave kept a display channel the leave
// never closed, whose tiles.start then held the replica watched and its tiles
// on with nothing left to turn them off; and every viewer's tiles.start asked
// the node for a whole frame of its own (many connections of one share link
// could keep a node encoding whole frames).
import assert from 'node:assert/strict';
import { after, afterEach, describe, it } from 'node:test';
import { removeDir, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { placedOnRawNodes } from '../helpers/raw-placement.js';
import { TestViewer } from '../helpers/viewer-client.js';

const okCount = (results: { ok: boolean }[]) => results.filter((r) => r.ok).length;
const produceData = (replicaId: string, transportId: string, streamId: number) => ({
  type: 'produceData',
  replicaId,
  transportId,
  sctpStreamParameters: { streamId, ordered: true },
  label: 'tiles',
});

describe('tile display hostility', () => {
  let server: ServerProc;
  const closers: (() => void)[] = [];
  afterEach(async () => {
    for (const c of closers.splice(0)) c();
    await new Promise((r) => setTimeout(r, 200));
  });
  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  /** A writer session placed on two raw nodes, node a's replica and its SCTP transport. */
  async function placedSession() {
    server ??= await startServer();
    const { a, owner, sessionId, replicaId } = await placedOnRawNodes(server, closers);
    const t = (await a.raw({ type: 'transport.create', replicaId })) as {
      ok: true;
      data: { id: string; sctpParameters?: unknown };
    };
    assert.ok(t.ok && t.data.sctpParameters, 'a node transport has SCTP (the tile display is on by default)');
    return { a, owner, sessionId, replicaId, transportId: t.data.id };
  }

  it('a node gets one display channel per replica, also in a burst', async () => {
    const { a, replicaId, transportId } = await placedSession();
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => a.raw(produceData(replicaId, transportId, i))),
    );
    assert.equal(okCount(results), 1, JSON.stringify(results.filter((r) => r.ok)));
    const refused = results.find((r) => !r.ok) as { ok: false; error: { code: string } };
    assert.equal(refused.error.code, 'conflict');
    // And after the burst, still one.
    const again = (await a.raw(produceData(replicaId, transportId, 30))) as { ok: boolean; error?: { code: string } };
    assert.equal(again.ok, false);
  });

  it('a storm of tiles.start from many viewer connections asks the node for few whole frames', async () => {
    const { a, owner, sessionId, replicaId, transportId } = await placedSession();
    assert.ok((await a.raw(produceData(replicaId, transportId, 0))).ok);
    const share = await owner.request({ type: 'share.create', sessionId, role: 'view' });
    const viewers = await Promise.all(Array.from({ length: 8 }, () => TestViewer.connect(server.url, share.token)));
    closers.push(...viewers.map((v) => () => v.close()));
    const channels = await Promise.all(
      viewers.map(async (v, i) => {
        await v.request({ type: 'session.join', sessionId, clientId: `storm-${i}` });
        const t = await v.request({ type: 'transport.create', sessionId, sctp: true });
        return (await v.request({ type: 'tiles.consume', transportId: t.id, replicaId })).id;
      }),
    );
    const asked = () => a.notifications.filter((n) => n.type === 'replica.tiles' && n.on).length;
    const results = await Promise.all(
      viewers.map((v, i) => v.raw({ type: 'tiles.start', dataConsumerId: channels[i] ?? '' })),
    );
    assert.equal(okCount(results), viewers.length, 'every viewer starts its channel');
    await new Promise((r) => setTimeout(r, 600));
    // One at once and one for those that started after it was asked (a third if the burst spread past 250 ms).
    assert.ok(asked() >= 2 && asked() <= 3, `${asked()} whole frames asked for ${viewers.length} starts`);
  });

  it('a display channel consumed while its viewer leaves is closed, not left to hold the replica watched', async () => {
    const { a, owner, sessionId, replicaId, transportId } = await placedSession();
    assert.ok((await a.raw(produceData(replicaId, transportId, 0))).ok);
    await owner.request({ type: 'session.join', sessionId, clientId: 'leaver' });
    const recv = await owner.request({ type: 'transport.create', sessionId, sctp: true });
    assert.ok(recv.sctpParameters, 'a viewer transport opened with sctp has it');
    const [consumed, left] = await Promise.all([
      owner.raw({ type: 'tiles.consume', transportId: recv.id, replicaId }),
      owner.raw({ type: 'session.leave', sessionId }),
    ]);
    assert.ok(left.ok);
    if (consumed.ok) {
      // What the bug allowed: the channel outlived the leave, and starting it turned the node's tiles on for good.
      const id = (consumed.data as { id: string }).id;
      const started = await owner.raw({ type: 'tiles.start', dataConsumerId: id });
      assert.equal(started.ok, false, 'a display channel of a transport the leave closed cannot be started');
    }
    assert.equal(consumed.ok, false, 'the consume racing the leave is refused');
    assert.equal((consumed as { ok: false; error: { code: string } }).error.code, 'unavailable');
    await new Promise((r) => setTimeout(r, 300));
    assert.equal(
      a.notifications.filter((n) => n.type === 'replica.tiles' && n.on).length,
      0,
      'the node was never told to send tiles',
    );
  });
});
