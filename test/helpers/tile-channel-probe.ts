// Probe for test/integration/tile-channel.test.ts, in its own process (wrtc
// can crash at process exit, so this one exits hard once it has printed its
// observation): a viewer that is mediasoup-client over wrtc joins a session,
// tries a display channel on a transport without SCTP and of an unknown
// replica, opens the channels of two replicas over SCTP, starts one (twice),
// reads its whole frame, types, and reads the deltas until their seq reaches
// the last typed one. Usage: tile-channel-probe.ts URL TOKEN SESSION_ID REPLICA_ID OTHER_REPLICA_ID.
import { Device, type types as msc } from 'mediasoup-client';
import { decodeTileMessage, type TileMessage } from '../../protocol/tile-frame.js';
import { installWrtcGlobals } from '../../render/wrtc-globals.js';
import { RequestFailed, TestViewer, waitFor } from './viewer-client.js';

export interface TileChannelObserved {
  plainTransportHasSctp: boolean;
  /** The refusals' codes and messages. */
  withoutSctp: string;
  unknownReplica: string;
  secondStart: string;
  /** Every message of the started channel, decoded (payloads as byte lengths, the first delta tile's PNG as base64). */
  started: Array<
    Omit<TileMessage, 'tiles'> & { tiles: Array<{ x: number; y: number; width: number; height: number }> }
  >;
  firstDeltaPng: string | null;
  lastTypedSeq: number;
  /** Messages on the channel consumed but never started. */
  unstarted: number;
}

async function refusal(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'accepted';
  } catch (err) {
    return err instanceof RequestFailed ? `${err.code}: ${err.message}` : String(err);
  }
}

async function observe(
  url: string,
  token: string,
  sessionId: string,
  shownId: string,
  otherId: string,
): Promise<TileChannelObserved> {
  installWrtcGlobals();
  const viewer = await TestViewer.connect(url, token);
  const join = await viewer.request({ type: 'session.join', sessionId, clientId: 'tiles' });
  const device = new Device({ handlerName: 'Chrome111' });
  await device.load({ routerRtpCapabilities: join.routerRtpCapabilities as msc.RtpCapabilities });
  const shown = { replicaId: shownId };
  const standby = { replicaId: otherId };
  const plain = await viewer.request({ type: 'transport.create', sessionId });
  const withoutSctp = await refusal(
    viewer.request({ type: 'tiles.consume', transportId: plain.id, replicaId: shown.replicaId }),
  );
  const params = await viewer.request({ type: 'transport.create', sessionId, sctp: true });
  const unknownReplica = await refusal(
    viewer.request({ type: 'tiles.consume', transportId: params.id, replicaId: 'no-such-replica' }),
  );
  const recv = device.createRecvTransport({
    id: params.id,
    iceParameters: params.iceParameters as msc.IceParameters,
    iceCandidates: params.iceCandidates as msc.IceCandidate[],
    dtlsParameters: params.dtlsParameters as msc.DtlsParameters,
    sctpParameters: params.sctpParameters as msc.SctpParameters,
  });
  recv.on('connect', ({ dtlsParameters }, cb, eb) => {
    viewer.request({ type: 'transport.connect', transportId: recv.id, dtlsParameters }).then(() => cb(), eb);
  });
  const open = async (replicaId: string) => {
    const p = await viewer.request({ type: 'tiles.consume', transportId: recv.id, replicaId });
    const dc = await recv.consumeData({
      id: p.id,
      dataProducerId: p.dataProducerId,
      sctpStreamParameters: p.sctpStreamParameters as msc.SctpStreamParameters,
      label: p.label,
    });
    dc.binaryType = 'arraybuffer';
    const got: TileMessage[] = [];
    dc.on('message', (m: ArrayBuffer) => got.push(decodeTileMessage(new Uint8Array(m))));
    if (dc.readyState !== 'open') await new Promise<void>((r) => dc.on('open', () => r()));
    return { dc, got };
  };
  const a = await open(shown.replicaId);
  const b = await open(standby.replicaId);
  await viewer.request({ type: 'tiles.start', dataConsumerId: a.dc.id });
  const secondStart = await refusal(viewer.request({ type: 'tiles.start', dataConsumerId: a.dc.id }));
  await waitFor('a whole frame', () => a.got.some((m) => m.whole && m.part === m.parts - 1));
  const seqs = await viewer.type(sessionId, 'tiles');
  const lastTypedSeq = Math.max(...seqs);
  await waitFor('the last typed seq', () => a.got.some((m) => m.seq >= lastTypedSeq && m.part === m.parts - 1));
  const firstDelta = a.got.find((m) => !m.whole && m.tiles.length > 0)?.tiles[0];
  return {
    plainTransportHasSctp: plain.sctpParameters !== undefined,
    withoutSctp,
    unknownReplica,
    secondStart,
    started: a.got.map((m) => ({ ...m, tiles: m.tiles.map(({ x, y, width, height }) => ({ x, y, width, height })) })),
    firstDeltaPng: firstDelta ? Buffer.from(firstDelta.payload).toString('base64') : null,
    lastTypedSeq,
    unstarted: b.got.length,
  };
}

const [url, token, sessionId, shownId, otherId] = process.argv.slice(2);
if (!url || !token || !sessionId || !shownId || !otherId) {
  process.stderr.write('usage: tile-channel-probe.ts URL TOKEN SESSION_ID REPLICA_ID OTHER_REPLICA_ID\n');
  process.exit(2);
}
observe(url, token, sessionId, shownId, otherId).then(
  (o) => {
    process.stdout.write(`${JSON.stringify(o)}\n`);
    setTimeout(() => process.exit(0), 100);
  },
  (err: unknown) => {
    process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
