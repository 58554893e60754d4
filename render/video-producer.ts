// One replica's video path into the SFU: a wrtc RTCVideoSource track, produced
// by mediasoup-client (Chrome111 handler over wrtc) into the session's router.
// When the server offers SCTP on the transport (the tile display is on), the
// replica's display channel too: a DataProducer (ordered, reliable) on the
// same transport, which render/tile-stream.ts sends on.
import { Device, type types as msc } from 'mediasoup-client';
import { getLogger } from '../protocol/logger.js';
import type { NodeResponses } from '../protocol/signalling.js';
import { TypedEmitter } from '../protocol/typed-emitter.js';
import { installWrtcGlobals, wrtc } from './wrtc-globals.js';

const log = getLogger('video-producer');

/** The requests a producer needs from the server (the node's socket, typed). */
export interface ProducerSignalling {
  createTransport(replicaId: string): Promise<NodeResponses['transport.create']>;
  connectTransport(transportId: string, dtlsParameters: msc.DtlsParameters): Promise<void>;
  produce(replicaId: string, transportId: string, rtpParameters: msc.RtpParameters): Promise<string>;
  /** The display channel (tile display); without it the replica is video only. */
  produceData?(
    replicaId: string,
    transportId: string,
    sctpStreamParameters: msc.SctpStreamParameters,
    label: string,
  ): Promise<string>;
}

/** Bytes queued on the display channel beyond which a tile frame is not sent (the next goes whole). */
const MAX_TILE_BUFFERED = 4 * 1024 * 1024;

export interface VideoProducerOptions {
  replicaId: string;
  maxBitrate: number;
  /**
   * The floor (and start) of the sender's bandwidth estimate, bit/s. wrtc paces packets at 2.5× the estimate, so
   * a low estimate (a loaded host makes the delay-based one sink) spreads even a small frame over tens of ms.
   * Absent: wrtc's own floor, starting at 1.5 Mbit/s.
   */
  minBitrate?: number;
  maxFps: number;
  signalling: ProducerSignalling;
}

/** kbit/s for the x-google-*-bitrate codec parameters; the floor never above the ceiling. */
export function bitrateCodecOptions(maxBitrate: number, minBitrate: number | undefined) {
  if (minBitrate === undefined || minBitrate <= 0) return { videoGoogleStartBitrate: 1500 };
  const min = Math.round(Math.min(minBitrate, maxBitrate) / 1000);
  return { videoGoogleStartBitrate: Math.max(min, 1500), videoGoogleMinBitrate: min };
}

/** The encoder's cumulative counters (wrtc's outbound-rtp and media-source stats), for the frame trace. */
export interface EncoderStats {
  framesPushed: number;
  /** Frames the source delivered to the encoder. */
  sourceFrames: number;
  framesEncoded: number;
  keyFramesEncoded: number;
  totalEncodeTimeMs: number;
  packetsSent: number;
  /** Summed time packets waited in the pacer. */
  totalPacketSendDelayMs: number;
  qualityLimitationReason: string;
  targetBitrate: number;
  qpSum: number;
  bytesSent: number;
  /** The sender's bandwidth estimate (bit/s): the pacer sends at a multiple of it. */
  availableOutgoingBitrate: number;
}

export interface VideoProducerEvents {
  /** The transport failed or the producer was closed underneath us. */
  failed: [Error];
}

export class VideoProducer extends TypedEmitter<VideoProducerEvents> {
  readonly producerId: string;
  readonly #source: InstanceType<typeof wrtc.nonstandard.RTCVideoSource>;
  readonly #track: MediaStreamTrack;
  readonly #transport: msc.Transport;
  readonly #producer: msc.Producer;
  /** The display channel, when the server offered SCTP and it could be produced. */
  #tiles: msc.DataProducer | undefined;
  #closed = false;
  framesSent = 0;

  private constructor(
    source: InstanceType<typeof wrtc.nonstandard.RTCVideoSource>,
    track: MediaStreamTrack,
    transport: msc.Transport,
    producer: msc.Producer,
  ) {
    super();
    this.#source = source;
    this.#track = track;
    this.#transport = transport;
    this.#producer = producer;
    this.producerId = producer.id;
    // Our own close() is not a failure.
    transport.on('connectionstatechange', (state: string) => {
      if (!this.#closed && (state === 'failed' || state === 'closed'))
        this.emit('failed', new Error(`send transport ${state}`));
    });
    producer.on('transportclose', () => {
      if (!this.#closed) this.emit('failed', new Error('transport closed'));
    });
  }

  static async create(opts: VideoProducerOptions): Promise<VideoProducer> {
    installWrtcGlobals();
    const params = await opts.signalling.createTransport(opts.replicaId);
    const device = new Device({ handlerName: 'Chrome111' });
    await device.load({ routerRtpCapabilities: params.routerRtpCapabilities as msc.RtpCapabilities });
    const transport = device.createSendTransport({
      id: params.id,
      iceParameters: params.iceParameters as msc.IceParameters,
      iceCandidates: params.iceCandidates as msc.IceCandidate[],
      dtlsParameters: params.dtlsParameters as msc.DtlsParameters,
      ...(params.sctpParameters ? { sctpParameters: params.sctpParameters as msc.SctpParameters } : {}),
    });
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      opts.signalling.connectTransport(transport.id, dtlsParameters).then(callback, errback);
    });
    transport.on('produce', ({ rtpParameters }, callback, errback) => {
      opts.signalling.produce(opts.replicaId, transport.id, rtpParameters).then((id) => callback({ id }), errback);
    });
    const produceData = opts.signalling.produceData?.bind(opts.signalling);
    transport.on('producedata', ({ sctpStreamParameters, label }, callback, errback) => {
      if (!produceData) return errback(new Error('no display channel signalling'));
      produceData(opts.replicaId, transport.id, sctpStreamParameters, label ?? '').then(
        (id) => callback({ id }),
        errback,
      );
    });
    // Screencast content: keep resolution and sharp text, let frame rate give way.
    const source = new wrtc.nonstandard.RTCVideoSource({ isScreencast: true });
    const track = source.createTrack();
    try {
      const producer = await transport.produce({
        track,
        encodings: [{ maxBitrate: opts.maxBitrate, maxFramerate: opts.maxFps }],
        codecOptions: bitrateCodecOptions(opts.maxBitrate, opts.minBitrate),
        stopTracks: false,
      });
      log.debug({ replicaId: opts.replicaId, producerId: producer.id }, 'producing');
      const video = new VideoProducer(source, track, transport, producer);
      if (params.sctpParameters && produceData) await video.#produceTiles(opts.replicaId);
      return video;
    } catch (err) {
      track.stop();
      transport.close();
      throw err;
    }
  }

  /** The display channel: without it (no SCTP offered, or it failed) the replica is video only. */
  async #produceTiles(replicaId: string): Promise<void> {
    try {
      this.#tiles = await this.#transport.produceData({ ordered: true, label: 'tiles' });
      log.debug({ replicaId, dataProducerId: this.#tiles.id }, 'display channel');
    } catch (err) {
      log.warn({ replicaId, err }, 'no display channel; video only');
    }
  }

  /** Sends one tile message on the display channel; false when it is not open or too far behind. */
  sendTiles(message: Uint8Array): boolean {
    const dc = this.#tiles;
    if (this.#closed || !dc || dc.closed || dc.readyState !== 'open' || dc.bufferedAmount > MAX_TILE_BUFFERED)
      return false;
    try {
      dc.send(message.buffer.slice(message.byteOffset, message.byteOffset + message.byteLength));
      return true;
    } catch (err) {
      log.debug({ err }, 'tile message not sent');
      return false;
    }
  }

  /** Pushes one I420 frame (width × height, even dimensions). */
  pushFrame(i420: Uint8Array, width: number, height: number): void {
    if (this.#closed) return;
    this.#source.onFrame({ width, height, data: i420 });
    this.framesSent++;
  }

  async stats(): Promise<EncoderStats> {
    const out: EncoderStats = {
      framesPushed: this.framesSent,
      sourceFrames: 0,
      framesEncoded: 0,
      keyFramesEncoded: 0,
      totalEncodeTimeMs: 0,
      packetsSent: 0,
      totalPacketSendDelayMs: 0,
      qualityLimitationReason: '',
      targetBitrate: 0,
      qpSum: 0,
      bytesSent: 0,
      availableOutgoingBitrate: 0,
    };
    const num = (v: unknown) => (typeof v === 'number' ? v : 0);
    // wrtc has no RTCRtpSender.getStats(): the transport (peer connection) has one producer.
    (await this.#transport.getStats()).forEach((s: Record<string, unknown>) => {
      if (s.type === 'media-source') out.sourceFrames = num(s.frames);
      if (s.type === 'candidate-pair' && s.nominated === true)
        out.availableOutgoingBitrate = num(s.availableOutgoingBitrate);
      if (s.type !== 'outbound-rtp') return;
      out.framesEncoded = num(s.framesEncoded);
      out.keyFramesEncoded = num(s.keyFramesEncoded);
      out.totalEncodeTimeMs = num(s.totalEncodeTime) * 1000;
      out.packetsSent = num(s.packetsSent);
      out.totalPacketSendDelayMs = num(s.totalPacketSendDelay) * 1000;
      out.qualityLimitationReason = typeof s.qualityLimitationReason === 'string' ? s.qualityLimitationReason : '';
      out.targetBitrate = num(s.targetBitrate);
      out.qpSum = num(s.qpSum);
      out.bytesSent = num(s.bytesSent);
    });
    return out;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /**
   * Order matters for wrtc: stop the track and close the producer before the
   * peer connection, or the native side can crash at process exit.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    try {
      this.#tiles?.close();
      this.#producer.close();
    } catch {
      /* already closed */
    }
    this.#track.stop();
    this.#transport.close();
  }
}
