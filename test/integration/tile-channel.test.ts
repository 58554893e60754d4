// The tile display's display channel end to end without a browser: a real
// server, real renderer processes (each replica producing a mediasoup
// DataProducer from wrtc) and a viewer that is mediasoup-client over wrtc
// (test/helpers/tile-channel-probe.ts, in its own process). The channel is
// refused on a transport opened without SCTP and for a replica that does not
// exist, and is started once only; once started it carries a whole frame of
// full-width bands covering the app area (TileOrder syncs on it), then the
// typed keys' damage as deltas (real PNGs of their rectangles) up to the last
// typed seq; a channel consumed but not started gets nothing.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { loadImage } from 'canvas';
import { TileOrder } from '../../viewer/tile-order.js';
import type { TileChannelObserved } from '../helpers/tile-channel-probe.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const run = promisify(execFile);
const W = 640;
const H = 360;

describe('the display channel (tile display) through the SFU', () => {
  let server: ServerProc;
  let sessionId: string;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    await startNode({ url: server.url, hostId: 'host-b' });
    const v = await TestViewer.connect(server.url);
    const { session } = await v.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: W,
      height: H,
    });
    v.close();
    sessionId = session.sessionId;
    await waitFor(
      '2 live replicas',
      async () => (await getSession(server.url, sessionId)).replicas.filter((r) => r.state === 'live').length === 2,
      30_000,
    );
  });

  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('refuses what it must, then carries a whole frame and the typed damage; an unstarted channel gets nothing', async () => {
    const [a, b] = (await getSession(server.url, sessionId)).replicas;
    assert.ok(a && b);
    const probe = 'test/helpers/tile-channel-probe.ts';
    const { stdout } = await run(
      process.execPath,
      ['--import', 'tsx', probe, server.url, server.ownerToken, sessionId, a.replicaId, b.replicaId],
      { timeout: 60_000, env: { ...process.env, LOCKSTEP_LOG_LEVEL: 'warn' } },
    );
    const o = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as TileChannelObserved;
    assert.equal(o.plainTransportHasSctp, false, 'a video-only transport, as before');
    assert.match(o.withoutSctp, /^bad-request: .*without SCTP/);
    assert.match(o.unknownReplica, /^not-found/);
    assert.match(o.secondStart, /^bad-request: .*already started/);
    assert.equal(o.unstarted, 0, 'a channel consumed but never started gets nothing');

    const order = new TileOrder();
    const first = o.started[0];
    assert.ok(first?.whole && first.part === 0, 'the first message starts a whole frame');
    for (const m of o.started) order.accept(m, m.tiles);
    assert.ok(order.synced);
    assert.deepEqual(order.size, { width: W, height: H });
    assert.ok((order.shownSeq ?? -1) >= o.lastTypedSeq, 'the deltas reach the last typed seq');
    const deltas = o.started.filter((m) => !m.whole && m.tiles.length > 0);
    assert.ok(deltas.length > 0, 'the keys came as damage');
    for (const m of deltas) for (const t of m.tiles) assert.ok(t.height < H, `a damage band (${t.height} rows)`);
    assert.ok(o.firstDeltaPng);
    const tile = deltas[0]?.tiles[0];
    const img = await loadImage(Buffer.from(o.firstDeltaPng, 'base64'));
    assert.deepEqual([img.width, img.height], [tile?.width, tile?.height], 'a real PNG of its rectangle');
  });
});
