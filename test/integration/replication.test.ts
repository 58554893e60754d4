// Replicated sessions with real processes: three renderer nodes (three host
// ids), inputs streaming while a replica's node is SIGKILLed and restarted;
// all replicas converge to the same state hash. Then the server is SIGKILLed
// and restarted on the same SQLite file: every acknowledged input is there.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_MODS } from '../../protocol/input.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { fetchLog } from '../helpers/reference-render.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { liveWriterSession } from '../helpers/writer-session.js';

describe('replication: kill and restart replicas while typing', () => {
  let server: ServerProc;
  const nodes = new Map<string, Proc>();
  let viewer: TestViewer;
  let sessionId: string;
  const acked = new Map<number, number>(); // clientSeq → seq

  before(async () => {
    server = await startServer();
    for (const host of ['host-a', 'host-b', 'host-c'])
      nodes.set(host, await startNode({ url: server.url, hostId: host }));
    viewer = await TestViewer.connect(server.url);
    ({ sessionId } = await liveWriterSession(viewer, server.url, {
      r: 3,
      width: 640,
      height: 360,
      what: '3 live replicas',
    }));
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  async function typeChar(ch: string): Promise<void> {
    const clientSeq = viewer.clientSeq++;
    const ack = await viewer.request({
      type: 'input',
      sessionId,
      clientSeq,
      event: { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS },
    });
    acked.set(clientSeq, ack.seq);
  }

  it('replicas sit on three distinct hosts', async () => {
    const s = await getSession(server.url, sessionId);
    assert.deepEqual(new Set(s.replicas.map((r) => r.hostId)), new Set(['host-a', 'host-b', 'host-c']));
  });

  it('a replica killed mid-stream is replaced and every replica converges', async () => {
    const text = 'the quick brown fox jumps over the lazy dog ';
    let killedHost: string | undefined;
    for (let i = 0; i < text.length * 3; i++) {
      await typeChar(text[i % text.length] ?? ' ');
      if (i === 40) {
        const s = await getSession(server.url, sessionId);
        killedHost = s.replicas[0]?.hostId;
        assert.ok(killedHost);
        await nodes.get(killedHost)?.kill('SIGKILL');
      }
      if (i === 80 && killedHost) nodes.set(killedHost, await startNode({ url: server.url, hostId: killedHost }));
    }
    const s = await waitFor(
      'converged after restart',
      async () => {
        const info = await getSession(server.url, sessionId);
        return converged(info, 3) ? info : undefined;
      },
      30_000,
    );
    assert.equal(s.headSeq, acked.size);
    // The killed host's old replica is gone; a new one (new id) took its place.
    assert.ok(
      s.replicas.every((r) => r.replicaId !== `${sessionId}.r1` || r.hostId !== killedHost || r.state === 'live'),
    );
  });

  it('SIGKILL of the server loses no acknowledged input', async () => {
    for (const ch of 'durable') await typeChar(ch);
    const dataDir = server.dataDir;
    const port = Number(new URL(server.url).port);
    await server.kill('SIGKILL');
    server = await startServer({ dataDir, port });
    const log = await fetchLog(server.url, sessionId);
    const byClientSeq = new Map(log.filter((i) => i.clientId.endsWith(':typist')).map((i) => [i.clientSeq, i.seq]));
    for (const [clientSeq, seq] of acked) assert.equal(byClientSeq.get(clientSeq), seq, `acked clientSeq ${clientSeq}`);
    assert.equal(log.length, acked.size);
    // Resending an acknowledged input after the restart is a duplicate, not a new input.
    const v2 = await TestViewer.connect(server.url);
    await v2.request({ type: 'session.join', sessionId, clientId: 'typist' });
    const again = await v2.request({
      type: 'input',
      sessionId,
      clientSeq: 0,
      event: { type: 'key', action: 'down', key: 't', code: '', text: 't', mods: NO_MODS },
    });
    assert.equal(again.duplicate, true);
    assert.equal(again.seq, acked.get(0));
    v2.close();
  });
});
