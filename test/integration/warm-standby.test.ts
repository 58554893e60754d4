// Warm standbys cost almost nothing: a replica whose stream no viewer has
// resumed keeps applying inputs (state hashes reported) but sends no video;
// the one a viewer watches keeps streaming; resuming a standby starts its
// stream at once. Real server, real renderer processes, real mediasoup: the
// byte counts are the SFU producers' own. (The picture after a resume is
// checked in Chromium by test/e2e/failover.test.ts.)
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authHeaders } from '../helpers/credentials.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

interface ReplicaStats {
  replicaId: string;
  producer: Array<{ type: string; byteCount?: number }> | null;
}

async function rtpBytes(url: string, sessionId: string): Promise<Map<string, number>> {
  const res = await fetch(`${url}/api/sessions/${sessionId}/stats`, { headers: authHeaders(url) });
  const body = (await res.json()) as { replicas: ReplicaStats[] };
  const out = new Map<string, number>();
  for (const r of body.replicas) {
    const bytes = (r.producer ?? [])
      .filter((s) => s.type === 'inbound-rtp')
      .reduce((a, s) => a + (s.byteCount ?? 0), 0);
    out.set(r.replicaId, bytes);
  }
  return out;
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

describe('warm standbys: no resumed consumer, no video', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  let sessionId: string;
  let shown: { replicaId: string; producerId: string };
  let standby: { replicaId: string; producerId: string; consumerId: string };

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    await startNode({ url: server.url, hostId: 'host-b' });
    viewer = await TestViewer.connect(server.url);
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: 640,
      height: 480,
    });
    sessionId = session.sessionId;
    const info = await waitFor('2 live replicas', async () => {
      const s = await getSession(server.url, sessionId);
      return converged(s, 2) && s.replicas.every((r) => r.producerId) ? s : undefined;
    });
    const join = await viewer.request({ type: 'session.join', sessionId, clientId: 'warm-itest' });
    const t = await viewer.request({ type: 'transport.create', sessionId });
    const [a, b] = info.replicas;
    assert.ok(a?.producerId && b?.producerId);
    // Consumers count at the SFU whether or not the transport ever connects.
    const consume = (producerId: string, paused: boolean) =>
      viewer.request({
        type: 'consume',
        transportId: t.id,
        producerId,
        rtpCapabilities: join.routerRtpCapabilities as never,
        paused,
      });
    await consume(a.producerId, false);
    const c = await consume(b.producerId, true);
    shown = { replicaId: a.replicaId, producerId: a.producerId };
    standby = { replicaId: b.replicaId, producerId: b.producerId, consumerId: c.id };
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('while typing, the watched stream grows and the standby sends next to nothing, yet applies every input', async () => {
    await sleep(1000); // anything sent before the standby heard it is unwatched is in the first sample
    const b0 = await rtpBytes(server.url, sessionId);
    const seqs = await viewer.type(sessionId, 'standbys cost almost nothing');
    await sleep(1500);
    const b1 = await rtpBytes(server.url, sessionId);
    const grew = (id: string) => (b1.get(id) ?? 0) - (b0.get(id) ?? 0);
    assert.ok(
      grew(shown.replicaId) > 4000,
      `watched stream grew ${grew(shown.replicaId)} bytes (standby ${grew(standby.replicaId)})`,
    );
    assert.ok(
      grew(standby.replicaId) < grew(shown.replicaId) / 50,
      `standby grew ${grew(standby.replicaId)} bytes vs ${grew(shown.replicaId)}`,
    );
    const last = seqs[seqs.length - 1] ?? 0;
    const s = await waitFor('both replicas applied everything', async () => {
      const info = await getSession(server.url, sessionId);
      return info.replicas.every((r) => r.appliedSeq >= last) ? info : undefined;
    });
    assert.equal(s.replicas[0]?.stateHash, s.replicas[1]?.stateHash, 'the standby state is current');
    // Not mistaken for a stalled stream: both stay live.
    assert.ok(s.replicas.every((r) => r.state === 'live'));
  });

  it('resuming the standby starts its stream at once', async () => {
    const b0 = await rtpBytes(server.url, sessionId);
    const t0 = performance.now();
    await viewer.request({ type: 'consumer.resume', consumerId: standby.consumerId, keyFrame: true });
    await waitFor(
      'standby stream flowing',
      async () =>
        ((await rtpBytes(server.url, sessionId)).get(standby.replicaId) ?? 0) > (b0.get(standby.replicaId) ?? 0) + 5000,
      5000,
      20,
    );
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `first video of the resumed standby after ${Math.round(ms)} ms`);
  });

  it('pausing it again stops it again', async () => {
    await viewer.request({ type: 'consumer.pause', consumerId: standby.consumerId });
    await sleep(800);
    const b0 = await rtpBytes(server.url, sessionId);
    await viewer.type(sessionId, 'more');
    await sleep(1500);
    const b1 = await rtpBytes(server.url, sessionId);
    const grew = (id: string) => (b1.get(id) ?? 0) - (b0.get(id) ?? 0);
    assert.ok(grew(standby.replicaId) < grew(shown.replicaId) / 50, `paused again: grew ${grew(standby.replicaId)}`);
  });
});
