// Simulated viewers for bench/fanout.ts, all in this one process: each joins
// the session over its own /viewer socket, opens a receive transport with
// mediasoup-client (Chrome111 handler over @roamhq/wrtc) and consumes one
// producer. Driven over IPC by the parent:
//   { type: 'add', count }  → { type: 'added', total, failed, ms, error? }
//   { type: 'stats' }       → { type: 'stats', bytesReceived, framesDecoded, packetsReceived, packetsLost, … }
//   { type: 'close' }       → { type: 'closed' }, then exits
// Config from the environment: BENCH_URL, BENCH_TOKEN, BENCH_SESSION, BENCH_PRODUCER.
import { Device, type types as msc } from 'mediasoup-client';
import { io, type Socket } from 'socket.io-client';
import type { Result } from '../../protocol/errors.js';
import type { ConsumerParams, TransportParams } from '../../protocol/media.js';
import type { JoinResult } from '../../protocol/signalling.js';
import { installWrtcGlobals } from '../../render/wrtc-globals.js';

installWrtcGlobals();

const url = process.env.BENCH_URL ?? '';
const token = process.env.BENCH_TOKEN ?? '';
const sessionId = process.env.BENCH_SESSION ?? '';
const producerId = process.env.BENCH_PRODUCER ?? '';
/** Viewers joining at once (each does a handful of round trips and an ICE/DTLS handshake). */
const JOIN_PARALLELISM = 5;

interface SimViewer {
  socket: Socket;
  transport: msc.Transport;
  consumer: msc.Consumer;
}

const viewers: SimViewer[] = [];
let nextId = 0;

function send(msg: Record<string, unknown>): void {
  process.send?.(msg);
}

function request<T>(socket: Socket, msg: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    socket.timeout(15_000).emit('request', msg, (err: Error | null, res: Result<unknown>) => {
      if (err) reject(err);
      else if (!res.ok) reject(new Error(`${String(msg.type)}: ${res.error.code}: ${res.error.message}`));
      else resolve(res.data as T);
    });
  });
}

async function addViewer(): Promise<SimViewer> {
  const id = nextId++;
  const socket = io(`${url}/viewer`, { auth: { token }, transports: ['websocket'], reconnection: false });
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    const join = await request<JoinResult>(socket, { type: 'session.join', sessionId, clientId: `fanout-${id}` });
    const device = new Device({ handlerName: 'Chrome111' });
    await device.load({ routerRtpCapabilities: join.routerRtpCapabilities as msc.RtpCapabilities });
    const tp = await request<TransportParams>(socket, { type: 'transport.create', sessionId });
    const transport = device.createRecvTransport({
      id: tp.id,
      iceParameters: tp.iceParameters as msc.IceParameters,
      iceCandidates: tp.iceCandidates as msc.IceCandidate[],
      dtlsParameters: tp.dtlsParameters as msc.DtlsParameters,
    });
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      request(socket, { type: 'transport.connect', transportId: transport.id, dtlsParameters }).then(
        () => callback(),
        (err: unknown) => errback(err instanceof Error ? err : new Error(String(err))),
      );
    });
    const cp = await request<ConsumerParams>(socket, {
      type: 'consume',
      transportId: transport.id,
      producerId,
      rtpCapabilities: device.rtpCapabilities,
      paused: false,
    });
    const consumer = await transport.consume({
      id: cp.id,
      producerId: cp.producerId,
      kind: cp.kind,
      rtpParameters: cp.rtpParameters as msc.RtpParameters,
    });
    await request(socket, { type: 'consumer.resume', consumerId: consumer.id, keyFrame: true });
    return { socket, transport, consumer };
  } catch (err) {
    socket.close();
    throw err;
  }
}

async function add(count: number): Promise<void> {
  const t0 = performance.now();
  let failed = 0;
  let error: string | undefined;
  let left = count;
  const worker = async () => {
    while (left > 0) {
      left--;
      try {
        viewers.push(await addViewer());
      } catch (err) {
        failed++;
        error ??= err instanceof Error ? err.message : String(err);
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(JOIN_PARALLELISM, count) }, worker));
  send({ type: 'added', total: viewers.length, failed, ms: Math.round(performance.now() - t0), error });
}

async function stats(): Promise<void> {
  let bytesReceived = 0;
  let framesDecoded = 0;
  let packetsReceived = 0;
  let packetsLost = 0;
  let pliCount = 0;
  let nackCount = 0;
  let keyFramesDecoded = 0;
  await Promise.all(
    viewers.map(async (v) => {
      try {
        // The whole peer connection: wrtc lacks per-receiver stats (consumer.getStats()).
        const report = await v.transport.getStats();
        report.forEach((s: Record<string, unknown>) => {
          // mediasoup's bandwidth probation stream is not the video.
          if (s.type !== 'inbound-rtp' || s.mid === 'probator') return;
          bytesReceived += typeof s.bytesReceived === 'number' ? s.bytesReceived : 0;
          framesDecoded += typeof s.framesDecoded === 'number' ? s.framesDecoded : 0;
          packetsReceived += typeof s.packetsReceived === 'number' ? s.packetsReceived : 0;
          packetsLost += typeof s.packetsLost === 'number' ? s.packetsLost : 0;
          pliCount += typeof s.pliCount === 'number' ? s.pliCount : 0;
          nackCount += typeof s.nackCount === 'number' ? s.nackCount : 0;
          keyFramesDecoded += typeof s.keyFramesDecoded === 'number' ? s.keyFramesDecoded : 0;
        });
      } catch {
        // a closed transport has no stats
      }
    }),
  );
  send({
    type: 'stats',
    bytesReceived,
    framesDecoded,
    packetsReceived,
    packetsLost,
    pliCount,
    nackCount,
    keyFramesDecoded,
  });
}

/** Consumers, then transports (their peer connections), then sockets: wrtc can crash at exit otherwise. */
function closeAll(): void {
  for (const v of viewers.splice(0)) {
    try {
      v.consumer.close();
    } catch {
      /* already closed */
    }
    try {
      v.transport.close();
    } catch {
      /* already closed */
    }
    v.socket.close();
  }
}

process.on('message', (msg: { type: string; count?: number }) => {
  switch (msg.type) {
    case 'add':
      void add(msg.count ?? 1);
      return;
    case 'stats':
      void stats();
      return;
    case 'close':
      closeAll();
      send({ type: 'closed' });
      // Give the native side a moment to tear the connections down.
      setTimeout(() => process.exit(0), 500);
      return;
  }
});
process.on('disconnect', () => {
  closeAll();
  setTimeout(() => process.exit(0), 500);
});
send({ type: 'ready' });
