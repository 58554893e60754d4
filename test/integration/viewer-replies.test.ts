// The viewer's check of the server's acks (viewer/reply-check.ts), both ways:
// a real server's answers (with a real renderer node and mediasoup) pass it, so
// the check refuses nothing the product says; and a hostile server (a fake
// /viewer namespace on 127.0.0.1) that answers garbage makes the viewer's own
// SessionClient reject each request with a typed ViewerRequestError, nothing
// handed on, the client still connected and answering the next request.
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { Server as IoServer } from 'socket.io';
import { NO_MODS } from '../../protocol/input.js';
import { checkViewerReply } from '../../viewer/reply-check.js';
import { ViewerRequestError } from '../../viewer/request-error.js';
import { SessionClient } from '../../viewer/session-client.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

describe("integration: the viewer checks the server's acks", () => {
  let server: ServerProc;
  let viewer: TestViewer;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    viewer = await TestViewer.connect(server.url);
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it("passes a real server's answers", async () => {
    const { session } = await viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 });
    const sessionId = session.sessionId;
    const live = await waitFor('a live replica', async () => {
      const s = await getSession(server.url, sessionId);
      return s.replicas.find((r) => r.state === 'live' && r.producerId);
    });
    const join = await viewer.request({ type: 'session.join', sessionId, clientId: 'reply-check' });
    const answers: Array<[Parameters<typeof checkViewerReply>[0], unknown]> = [];
    for (const sctp of [false, true]) {
      const t = await viewer.request({ type: 'transport.create', sessionId, ...(sctp ? { sctp } : {}) });
      answers.push(['transport.create', t]);
      if (!sctp) {
        const c = await viewer.request({
          type: 'consume',
          transportId: t.id,
          producerId: live.producerId ?? '',
          rtpCapabilities: join.routerRtpCapabilities as never,
          paused: true,
        });
        answers.push(['consume', c]);
      }
    }
    await viewer.type(sessionId, 'x');
    // The same input again: the server's ack says it is a duplicate.
    const resent = await viewer.request({
      type: 'input',
      sessionId,
      clientSeq: viewer.clientSeq - 1,
      event: { type: 'key', action: 'down', key: 'x', code: 'KeyX', text: 'x', mods: NO_MODS },
    });
    answers.push(['input', resent]);
    answers.push(['clipboard.copy', await viewer.request({ type: 'clipboard.copy', sessionId, atSeq: 0 })]);
    for (const [type, data] of answers)
      assert.equal(checkViewerReply(type, data), null, `${type}: ${JSON.stringify(data)}`);
  });
});

describe('integration: a hostile server answering the viewer garbage', () => {
  let io: IoServer;
  let url: string;
  let answer: (msg: { type?: string }) => unknown;

  before(async () => {
    const http = createServer();
    io = new IoServer(http);
    io.of('/viewer').on('connection', (socket) => {
      socket.on('request', (msg: { type?: string }, ack: (res: unknown) => void) => ack(answer(msg)));
    });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(http.address() as AddressInfo).port}`;
  });

  after(async () => {
    await io.close();
  });

  it('gets a typed error for each malformed ack, acts on none, and stays connected', async () => {
    const client = new SessionClient({ token: 'lso_fake', url, requestTimeoutMs: 3000 });
    try {
      const requests = [
        { type: 'transport.create', sessionId: 's-1' },
        { type: 'consume', transportId: 't', producerId: 'p', rtpCapabilities: {}, paused: true },
        { type: 'tiles.consume', transportId: 't', replicaId: 'r' },
        { type: 'input', sessionId: 's-1', clientSeq: 0, event: { type: 'paste', text: 'x' } },
        { type: 'clipboard.copy', sessionId: 's-1', atSeq: 0 },
        { type: 'transport.connect', transportId: 't', dtlsParameters: { fingerprints: [] } },
      ] as const;
      const garbage: unknown[] = [
        null,
        'x'.repeat(100_000),
        [],
        { id: 42 },
        {
          id: 't',
          iceParameters: { usernameFragment: 'u', password: 'p' },
          iceCandidates: [{ foundation: 'f', priority: 1, address: '', protocol: 'udp', port: 0, type: 'host' }],
          dtlsParameters: { fingerprints: [{ algorithm: 'sha-256', value: 'AB' }] },
        },
        { id: 'c', producerId: 'p', kind: 'screen', rtpParameters: { codecs: [] }, replicaId: 'r' },
        { seq: -1, duplicate: 'no' },
        { text: 'x'.repeat(70_000), seq: 0 },
        { connected: 'yes' },
      ];
      for (const req of requests) {
        for (const data of garbage) {
          answer = () => ({ ok: true, data });
          await assert.rejects(
            client.request(req as never),
            (e: unknown) =>
              e instanceof ViewerRequestError && e.code === 'internal' && /malformed reply/.test(e.message),
            `${req.type} answered ${JSON.stringify(data)?.slice(0, 80)}`,
          );
        }
      }
      // A proper answer after all that is taken: the client is still up and connected.
      answer = () => ({ ok: true, data: { text: 'fine', seq: 3 } });
      assert.deepEqual(await client.request({ type: 'clipboard.copy', sessionId: 's-1', atSeq: 0 }), {
        text: 'fine',
        seq: 3,
      });
      assert.ok(client.connected);
    } finally {
      client.close();
    }
  });
});
