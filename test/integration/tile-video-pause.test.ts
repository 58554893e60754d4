// The tile display, phase 2 (docs/tile-display.md): while a replica is watched
// only through its display channel (its video consumer paused, the channel
// started), its node renders for the channel but converts and encodes no
// video; once the video is resumed it encodes again at once, although
// mediasoup has marked the idle stream inactive. The idle producer does not
// make the shown replica stale or cost it its health.
// Real server, real renderer processes, real mediasoup: what the node sent is
// the SFU producer's own RTP byte count, what it encoded its encoder's counters
// (the node's frame trace, LOCKSTEP_TRACE_DIR).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { SessionInfo } from '../../protocol/session.js';
import type { FrameTraceRecord } from '../../render/frame-trace.js';
import { authHeaders } from '../helpers/credentials.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { liveWriterSession } from '../helpers/writer-session.js';

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

async function rtpBytes(url: string, sessionId: string, replicaId: string): Promise<number> {
  const res = await fetch(`${url}/api/sessions/${sessionId}/stats`, { headers: authHeaders(url) });
  const body = (await res.json()) as {
    replicas: Array<{ replicaId: string; producer: Array<{ type: string; byteCount?: number }> | null }>;
  };
  const r = body.replicas.find((x) => x.replicaId === replicaId);
  return (r?.producer ?? []).filter((s) => s.type === 'inbound-rtp').reduce((a, s) => a + (s.byteCount ?? 0), 0);
}

type EncoderRecord = Extract<FrameTraceRecord, { kind: 'encoder' }>;

/** The replica's latest encoder counters in its node's trace (written once a second while it is watched). */
function lastEncoder(traceDir: string, replicaId: string): EncoderRecord | undefined {
  let last: EncoderRecord | undefined;
  for (const f of readdirSync(traceDir)) {
    for (const line of readFileSync(join(traceDir, f), 'utf8').split('\n')) {
      if (!line.includes('"encoder"')) continue;
      const r = JSON.parse(line) as FrameTraceRecord;
      if (r.kind === 'encoder' && r.replicaId === replicaId && (!last || r.at > last.at)) last = r;
    }
  }
  return last;
}

describe('tiles alone watch: the node encodes no video until the video is resumed', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  let sessionId: string;
  let shown: { replicaId: string; consumerId: string };
  const traceDir = mkdtempSync(join(tmpdir(), 'lockstep-tile-pause-'));

  before(async () => {
    server = await startServer();
    for (const hostId of ['host-a', 'host-b'])
      await startNode({ url: server.url, hostId, env: { LOCKSTEP_TRACE_DIR: traceDir } });
    viewer = await TestViewer.connect(server.url);
    let info: SessionInfo;
    ({ sessionId, info } = await liveWriterSession(viewer, server.url, {
      r: 2,
      width: 640,
      height: 360,
      clientId: 'tile-pause-itest',
      live: (s) => converged(s, 2) && s.replicas.every((r) => r.producerId),
    }));
    const join = await viewer.request({ type: 'session.join', sessionId, clientId: 'tile-pause-itest' });
    // Consumers and display channels count at the SFU whether or not the transport ever connects.
    const t = await viewer.request({ type: 'transport.create', sessionId, sctp: true });
    const a = info.replicas[0];
    assert.ok(a?.producerId);
    const c = await viewer.request({
      type: 'consume',
      transportId: t.id,
      producerId: a.producerId,
      rtpCapabilities: join.routerRtpCapabilities as never,
      paused: false,
    });
    shown = { replicaId: a.replicaId, consumerId: c.id };
    // The viewer's tile display: the video first, then the channel, then the video paused.
    await waitFor('the shown stream encoding', async () => (await rtpBytes(server.url, sessionId, a.replicaId)) > 5000);
    const dc = await viewer.request({ type: 'tiles.consume', transportId: t.id, replicaId: a.replicaId });
    await viewer.request({ type: 'tiles.start', dataConsumerId: dc.id });
    await viewer.request({ type: 'consumer.pause', consumerId: c.id });
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
    removeDir(traceDir);
  });

  it('while only the display channel watches and keys are typed, no video is encoded or sent', async () => {
    await sleep(1500); // what was encoded before the node heard of the pause is in the first reading
    const e0 = lastEncoder(traceDir, shown.replicaId);
    const b0 = await rtpBytes(server.url, sessionId, shown.replicaId);
    const seqs = await viewer.type(sessionId, 'tiles alone');
    await sleep(2500); // longer than mediasoup's 1.5 s to mark an idle stream inactive
    const e1 = lastEncoder(traceDir, shown.replicaId);
    const b1 = await rtpBytes(server.url, sessionId, shown.replicaId);
    assert.ok(e0 && e1 && e1.at > e0.at, 'the watched replica keeps reporting its encoder');
    assert.equal(e1.framesEncoded, e0.framesEncoded, `frames encoded ${e0.framesEncoded} → ${e1.framesEncoded}`);
    assert.equal(e1.framesPushed, e0.framesPushed, 'no frame handed to the encoder');
    assert.ok(b1 - b0 < 2000, `the producer received ${b1 - b0} RTP bytes`);
    // Yet the replica applied every input, and its idle video is not taken for a stall or a bad host.
    const last = seqs.at(-1) ?? 0;
    const s = await waitFor('the shown replica applied everything', async () => {
      const info = await getSession(server.url, sessionId);
      const r = info.replicas.find((x) => x.replicaId === shown.replicaId);
      return r && r.appliedSeq >= last ? r : undefined;
    });
    assert.equal(s.state, 'live');
    assert.equal(s.verdict, 'healthy', 'not stale: its frames go to the display channel');
    assert.equal(s.health.producerScore, null, 'an idle producer has no score to report');
  });

  it('resuming the video encodes again at once', async () => {
    const e0 = lastEncoder(traceDir, shown.replicaId);
    const b0 = await rtpBytes(server.url, sessionId, shown.replicaId);
    assert.ok(e0);
    const t0 = performance.now();
    await viewer.request({ type: 'consumer.resume', consumerId: shown.consumerId, keyFrame: true });
    // A 640x360 page of little text: a frame is a couple of KB.
    await waitFor(
      'video flowing again',
      async () => (await rtpBytes(server.url, sessionId, shown.replicaId)) > b0 + 1500,
      5000,
      20,
    );
    const ms = performance.now() - t0;
    assert.ok(ms < 1500, `first video after the resume in ${Math.round(ms)} ms`);
    const e1 = await waitFor('the encoder counting again', () => {
      const e = lastEncoder(traceDir, shown.replicaId);
      return e && e.framesEncoded > e0.framesEncoded ? e : undefined;
    });
    assert.ok(e1.framesPushed > e0.framesPushed);
    // The key frame the resume asks for reaches the encoder only through a connected consumer (mediasoup
    // ignores requests of one whose transport never connected, as here): test/e2e/tile-display.test.ts checks
    // that the fallback to the same replica's video decodes at once.
  });
});
