// Real server + a real renderer process on loopback: RTP reaches the SFU
// producer, typed input reaches the replica, malformed messages get typed
// errors and break nothing.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { authHeaders } from '../helpers/credentials.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

interface ProducerStat {
  type: string;
  byteCount?: number;
  packetCount?: number;
  score?: number;
}

async function producerStats(url: string, sessionId: string): Promise<ProducerStat[]> {
  const res = await fetch(`${url}/api/sessions/${sessionId}/stats`, { headers: authHeaders(url) });
  const body = (await res.json()) as { replicas: Array<{ producer: ProducerStat[] | null }> };
  return body.replicas.flatMap((r) => r.producer ?? []);
}

describe('pipeline: server + renderer on loopback', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  let sessionId: string;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    viewer = await TestViewer.connect(server.url);
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: 640,
      height: 480,
    });
    sessionId = session.sessionId;
    await viewer.request({ type: 'session.join', sessionId, clientId: 'itest-client' });
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('places the replica and it goes live with a producer', async () => {
    const s = await waitFor('live replica', async () => {
      const info = await getSession(server.url, sessionId);
      return info.replicas.find((r) => r.state === 'live' && r.producerId) ? info : undefined;
    });
    // R=2 but a single host: replicas never share a host, so one is placed and the shortfall is left visible.
    assert.equal(s.replicas.length, 1);
    assert.equal(s.replicationFactor, 2);
    assert.equal(s.replicas[0]?.hostId, 'host-a');
  });

  it('RTP arrives at the producer and keeps arriving', async () => {
    // Renderers stream only what some viewer watches: a resumed consumer (its transport need not connect).
    const info = await getSession(server.url, sessionId);
    const producerId = info.replicas[0]?.producerId;
    assert.ok(producerId);
    const join = await viewer.request({ type: 'session.join', sessionId, clientId: 'itest-client' });
    const t = await viewer.request({ type: 'transport.create', sessionId });
    await viewer.request({
      type: 'consume',
      transportId: t.id,
      producerId,
      rtpCapabilities: join.routerRtpCapabilities as never,
      paused: false,
    });
    const first = await waitFor('rtp bytes', async () => {
      const stats = await producerStats(server.url, sessionId);
      const rtp = stats.find((s) => s.type === 'inbound-rtp');
      return rtp && (rtp.byteCount ?? 0) > 0 ? rtp : undefined;
    });
    // The stream is live, not a single frame: the counters keep moving.
    const later = await waitFor('more rtp bytes', async () => {
      const rtp = (await producerStats(server.url, sessionId)).find((s) => s.type === 'inbound-rtp');
      return rtp && (rtp.byteCount ?? 0) > (first.byteCount ?? 0) ? rtp : undefined;
    });
    assert.ok((later.packetCount ?? 0) > (first.packetCount ?? 0));
  });

  it('typed input reaches the replica in order', async () => {
    const seqs = await viewer.type(sessionId, 'Hello, Lockstep');
    // One input per key: the writer reads no key-ups, so none are sent (its manifest's keyUps).
    assert.equal(seqs.length, 15);
    for (let i = 1; i < seqs.length; i++) assert.equal(seqs[i], (seqs[i - 1] ?? 0) + 1, 'dense, ordered seqs');
    const last = seqs[seqs.length - 1] ?? 0;
    const info = await waitFor('replica applied all inputs', async () => {
      const s = await getSession(server.url, sessionId);
      return s.replicas[0] && s.replicas[0].appliedSeq >= last ? s : undefined;
    });
    assert.equal(info.headSeq, last);
    assert.match(info.replicas[0]?.stateHash ?? '', /^[0-9a-f]{16,}$/);
  });

  it('malformed and oversized messages get typed errors; nothing is lost', async () => {
    const before = await getSession(server.url, sessionId);
    const bad: unknown[] = [
      null,
      42,
      'hello',
      { type: 'nope' },
      { type: 'input' },
      { type: 'input', sessionId, clientSeq: -1, event: { type: 'key' } },
      { type: 'input', sessionId, clientSeq: 1e6, event: { type: 'paste', text: 'x'.repeat(70_000) } },
      { type: 'consume', transportId: 'x', producerId: 'y', rtpCapabilities: { codecs: 'nope' }, paused: false },
      { type: 'session.join', sessionId: '../../etc/passwd', clientId: 'a' },
      // A session must survive losing a host: R below 2 is refused.
      { type: 'sessions.create', app: 'writer', replicationFactor: 1 },
      { type: 'input', sessionId: 'not-my-session', clientSeq: 0, event: { type: 'release-all' } },
    ];
    for (const msg of bad) {
      const res = await viewer.raw(msg);
      assert.equal(res.ok, false, `accepted: ${JSON.stringify(msg).slice(0, 80)}`);
      if (!res.ok) assert.match(res.error.code, /bad-request|forbidden|not-found|too-large/);
    }
    // The server is alive, the session intact, and typing still works.
    const seqs = await viewer.type(sessionId, '!');
    const after = await waitFor('applied', async () => {
      const s = await getSession(server.url, sessionId);
      return (s.replicas[0]?.appliedSeq ?? 0) >= (seqs[0] ?? 0) ? s : undefined;
    });
    assert.equal(after.headSeq, before.headSeq + 1);
  });
});
