// Probe for test/integration/playout-delay.test.ts, in its own process (wrtc
// can abort at exit after peer connections close, so this exits hard once it
// has printed its result): a real renderer video producer (wrtc +
// mediasoup-client) produces into a real router of the patched mediasoup
// worker; a plain RTP consumer of that producer sends its packets to a UDP
// socket here, and the probe reports which of them carry playout-delay.
// Usage: tsx test/helpers/playout-delay-probe.ts on|off  → one JSON line.
import { createSocket, type Socket } from 'node:dgram';
import type { types } from 'mediasoup';
import { VideoProducer } from '../../render/video-producer.js';
import { loadServerConfig } from '../../server/config.js';
import { PLAYOUT_DELAY_URI, Sfu } from '../../server/sfu.js';
import { waitFor } from './viewer-client.js';

const WIDTH = 320;
const HEIGHT = 240;
/** The id the patched worker gives playout-delay in forwarded packets. */
const WORKER_PLAYOUT_DELAY_ID = 14;

/** The one-byte-header (RFC 8285) extension elements of an RTP packet, by id. */
function rtpHeaderExtensions(packet: Buffer): Map<number, Buffer> {
  const out = new Map<number, Buffer>();
  if (packet.length < 12 || packet[0] === undefined || packet[0] >> 6 !== 2) return out;
  const hasExtension = (packet[0] & 0x10) !== 0;
  const csrcs = packet[0] & 0x0f;
  let off = 12 + 4 * csrcs;
  if (!hasExtension || packet.length < off + 4) return out;
  const profile = packet.readUInt16BE(off);
  const words = packet.readUInt16BE(off + 2);
  off += 4;
  const end = Math.min(packet.length, off + 4 * words);
  if (profile !== 0xbede) return out;
  while (off < end) {
    const b = packet[off] ?? 0;
    if (b === 0) {
      off++; // padding
      continue;
    }
    const id = b >> 4;
    if (id === 15) break;
    const len = (b & 0x0f) + 1;
    out.set(id, packet.subarray(off + 1, off + 1 + len));
    off += 1 + len;
  }
  return out;
}

export interface Observed {
  producerExtensionUris: string[];
  consumerExtension: types.RtpHeaderExtensionParameters | null;
  videoPackets: number;
  /** Values of the consumer's playout-delay extension id in the packets that had it. */
  playoutDelayValues: string[];
}

async function observe(zeroPlayoutDelay: boolean): Promise<Observed> {
  const base = loadServerConfig().mediasoup;
  const sfu = await Sfu.create({ ...base, numWorkers: 1, zeroPlayoutDelay });
  const sessionId = `pd-${zeroPlayoutDelay ? 'on' : 'off'}`;
  let producer: VideoProducer | undefined;
  let socket: Socket | undefined;
  const timer: { id?: NodeJS.Timeout } = {};
  try {
    const router = await sfu.router(sessionId);
    let sendTransport: types.WebRtcTransport | undefined;
    let msProducer: types.Producer | undefined;
    producer = await VideoProducer.create({
      replicaId: 'r1',
      maxBitrate: 500_000,
      maxFps: 30,
      signalling: {
        async createTransport() {
          sendTransport = await sfu.createWebRtcTransport(sessionId, {});
          return {
            id: sendTransport.id,
            iceParameters: sendTransport.iceParameters,
            iceCandidates: sendTransport.iceCandidates,
            dtlsParameters: sendTransport.dtlsParameters,
            routerRtpCapabilities: router.rtpCapabilities,
          };
        },
        async connectTransport(_id, dtlsParameters) {
          await sendTransport?.connect({ dtlsParameters });
        },
        async produce(_replicaId, _transportId, rtpParameters) {
          if (!sendTransport) throw new Error('no transport');
          msProducer = await sendTransport.produce({ kind: 'video', rtpParameters });
          return msProducer.id;
        },
      },
    });
    if (!msProducer) throw new Error('no producer after produce()');
    const produced: types.Producer = msProducer;

    socket = createSocket('udp4');
    const packets: Buffer[] = [];
    socket.on('message', (m) => packets.push(m));
    await new Promise<void>((resolve) => socket?.bind(0, '127.0.0.1', resolve));
    const { port } = socket.address();
    const plain = await router.createPlainTransport({ listenIp: '127.0.0.1', rtcpMux: true, comedia: false });
    await plain.connect({ ip: '127.0.0.1', port });
    const consumer = await plain.consume({ producerId: produced.id, rtpCapabilities: router.rtpCapabilities });
    const consumerExtension = consumer.rtpParameters.headerExtensions?.find((e) => e.uri === PLAYOUT_DELAY_URI);
    const videoPt = consumer.rtpParameters.codecs.find((c) => c.mimeType.toLowerCase() === 'video/vp8')?.payloadType;

    // A grey frame with a moving bar, 30 times a second: the encoder keeps producing.
    const i420 = new Uint8Array((WIDTH * HEIGHT * 3) / 2).fill(128);
    let n = 0;
    timer.id = setInterval(() => {
      i420.fill(128, 0, WIDTH * HEIGHT);
      i420.fill(235, (n++ % HEIGHT) * WIDTH, ((n % HEIGHT) + 1) * WIDTH);
      producer?.pushFrame(i420, WIDTH, HEIGHT);
    }, 33);
    const video = () => packets.filter((p) => p.length > 12 && ((p[1] ?? 0) & 0x7f) === videoPt);
    await waitFor('video RTP at the plain consumer', () => video().length >= 30, 20_000, 50);

    // Off, the consumer has no id for it: look for the one the worker would use.
    const id = consumerExtension?.id ?? WORKER_PLAYOUT_DELAY_ID;
    const playoutDelayValues = video()
      .map((p) => rtpHeaderExtensions(p).get(id))
      .filter((v): v is Buffer => v !== undefined)
      .map((v) => v.toString('hex'));
    return {
      producerExtensionUris: (produced.rtpParameters.headerExtensions ?? []).map((e) => e.uri),
      consumerExtension: consumerExtension ?? null,
      videoPackets: video().length,
      playoutDelayValues,
    };
  } finally {
    clearInterval(timer.id);
    // wrtc: the producer (track, then peer connection) goes before the worker.
    producer?.close();
    socket?.close();
    sfu.close();
  }
}

const mode = process.argv[2];
if (mode !== 'on' && mode !== 'off') {
  process.stderr.write('usage: playout-delay-probe.ts on|off\n');
  process.exit(2);
}
observe(mode === 'on').then(
  (o) => {
    process.stdout.write(`${JSON.stringify(o)}\n`);
    setTimeout(() => process.exit(0), 100);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
