// The SFU: a mediasoup worker per core and a router per session. Closing the
// Sfu closes its routers (and with them every transport, producer, consumer).
import type { types } from 'mediasoup';
import type { ServerConfig } from './config.js';
import { getLogger } from '../protocol/logger.js';
import { loadMediasoup } from './mediasoup-loader.js';
import { TypedEmitter } from '../protocol/typed-emitter.js';
import { StreamWatchers } from './stream-watchers.js';
import { TilesWantedPacer } from './tiles-wanted-pacer.js';

const log = getLogger('sfu');

/** VP8 only: what renderers produce and every browser decodes in hardware or cheaply. */
const MEDIA_CODECS: types.RtpCodecCapability[] = [
  {
    kind: 'video',
    mimeType: 'video/VP8',
    clockRate: 90000,
    parameters: { 'x-google-start-bitrate': 1500 },
  },
];

export const PLAYOUT_DELAY_URI = 'http://www.webrtc.org/experiments/rtp-hdrext/playout-delay';
/** The id mediasoup itself gives the extension from 3.10 on (this worker is patched to match). */
const PLAYOUT_DELAY_ID = 14;

/**
 * Adds playout-delay to a router's capabilities. mediasoup 3.8 has no option
 * for extra header extensions; the router's capabilities object is the one its
 * transports read when they map producers and consumers, so extending it there
 * makes producers list the extension (the patched worker then stamps zero
 * delay on their video) and consumers negotiate it with the browser.
 */
function addPlayoutDelayExtension(caps: types.RtpCapabilities): void {
  const exts = (caps.headerExtensions ??= []);
  if (exts.some((e) => e.uri === PLAYOUT_DELAY_URI)) return;
  if (exts.some((e) => e.preferredId === PLAYOUT_DELAY_ID)) {
    log.warn({ id: PLAYOUT_DELAY_ID }, 'header extension id taken; playout-delay not negotiated');
    return;
  }
  exts.push({
    kind: 'video',
    uri: PLAYOUT_DELAY_URI,
    preferredId: PLAYOUT_DELAY_ID,
    preferredEncrypt: false,
    direction: 'sendrecv',
  });
}

/**
 * SCTP on a transport that carries a display channel (docs/tile-display.md): ordered, reliable messages up to
 * the size Chromium and mediasoup both default to, which bounds a tile message (LIMITS.maxTileMessageBytes).
 */
export const SCTP_OPTIONS = {
  enableSctp: true,
  numSctpStreams: { OS: 1024, MIS: 1024 },
  maxSctpMessageSize: 262_144,
} as const;

/**
 * At most one whole tile frame asked of a display channel's node per this interval (server/tiles-wanted-pacer.ts):
 * a new viewer waits at most this long for its first whole frame (it shows the video meanwhile).
 */
export const WHOLE_TILE_FRAME_INTERVAL_MS = 250;

export interface SfuEvents {
  workerdied: [{ pid: number; error: Error }];
}

export class Sfu extends TypedEmitter<SfuEvents> {
  readonly #config: ServerConfig['mediasoup'];
  readonly #workers: types.Worker[];
  readonly #routers = new Map<string, Promise<types.Router>>();
  /** Every transport ever opened on a session's router, whatever created it (audited: WebRTC only). */
  readonly #transports = new Map<string, Set<types.Transport>>();
  #nextWorker = 0;
  #closed = false;
  /**
   * Which producers some viewer watches: has a resumed consumer of, from every router's consumers, or a started
   * display channel of (the viewer gateway counts those in: their node renders).
   */
  readonly watchers = new StreamWatchers();
  /** Which producers some viewer has a resumed video consumer of (their node encodes video; tiles alone do not). */
  readonly videoWatchers = new StreamWatchers();
  /** Which display channels (data producers) some viewer has started (tiles.start) and not closed. */
  readonly tileWatchers = new StreamWatchers();

  private constructor(config: ServerConfig['mediasoup'], workers: types.Worker[]) {
    super();
    this.#config = config;
    this.#workers = workers;
    for (const worker of workers) {
      worker.on('died', (error: Error) => {
        // A dead worker takes its routers with it; the sessions on it lose
        // their media and recover through replica re-placement.
        log.error({ pid: worker.pid, err: error }, 'mediasoup worker died');
        this.emit('workerdied', { pid: worker.pid, error });
      });
    }
  }

  static async create(config: ServerConfig['mediasoup']): Promise<Sfu> {
    const mediasoup = await loadMediasoup();
    const workers: types.Worker[] = [];
    const count = Math.max(1, config.numWorkers);
    // Each worker gets its own slice of the port range so they never collide.
    const span = Math.floor((config.rtcMaxPort - config.rtcMinPort + 1) / count);
    for (let i = 0; i < count; i++) {
      workers.push(
        await mediasoup.createWorker({
          logLevel: 'warn',
          rtcMinPort: config.rtcMinPort + i * span,
          rtcMaxPort: config.rtcMinPort + (i + 1) * span - 1,
        }),
      );
    }
    log.info({ workers: workers.map((w) => w.pid) }, 'mediasoup workers started');
    return new Sfu(config, workers);
  }

  get workerPids(): number[] {
    return this.#workers.map((w) => w.pid);
  }

  /** The session's router, created on first use on the next worker (round robin). */
  router(sessionId: string): Promise<types.Router> {
    let router = this.#routers.get(sessionId);
    if (!router) {
      const worker = this.#workers[this.#nextWorker++ % this.#workers.length];
      if (!worker) throw new Error('no mediasoup worker');
      router = worker.createRouter({ mediaCodecs: MEDIA_CODECS, appData: { sessionId } }).then((r) => {
        if (this.#config.zeroPlayoutDelay) addPlayoutDelayExtension(r.rtpCapabilities);
        return r;
      });
      this.#routers.set(sessionId, router);
      router.then(
        (r) => {
          r.observer.on('close', () => {
            this.#routers.delete(sessionId);
            this.#transports.delete(sessionId);
          });
          r.observer.on('newtransport', (t: types.Transport) => {
            let set = this.#transports.get(sessionId);
            if (!set) this.#transports.set(sessionId, (set = new Set()));
            set.add(t);
            t.observer.on('close', () => set.delete(t));
            t.observer.on('newconsumer', (c: types.Consumer) => this.#trackConsumer(c));
          });
        },
        () => this.#routers.delete(sessionId),
      );
    }
    return router;
  }

  /** A consumer counts as watching while neither it nor its producer is paused. */
  #trackConsumer(c: types.Consumer): void {
    for (const w of [this.watchers, this.videoWatchers]) {
      w.consumerOpened(c.id, c.producerId, !c.paused && !c.producerPaused);
      c.observer.on('resume', () => w.consumerResumed(c.id));
      c.observer.on('pause', () => w.consumerPaused(c.id));
      c.observer.on('close', () => w.consumerClosed(c.id));
    }
    this.#keyFrameWhenStreamReturns(c);
  }

  /**
   * mediasoup marks a producer's stream inactive after 1.5 s without RTP, and
   * a consumer of an inactive stream ignores key frame requests, its resume's
   * own included, while it drops delta frames until a key frame. A warm
   * standby's renderer sends nothing until a viewer resumes it, so the resume's
   * request was lost and the resumed stream stayed black (until a switch away).
   * Ask again the moment the stream is back.
   */
  #keyFrameWhenStreamReturns(c: types.Consumer): void {
    if (c.kind !== 'video') return;
    let producerScore = c.score.producerScore;
    c.observer.on('score', (score: types.ConsumerScore) => {
      const returned = producerScore === 0 && score.producerScore > 0;
      producerScore = score.producerScore;
      if (!returned || c.closed || c.paused || c.producerPaused) return;
      c.requestKeyFrame().catch((err: unknown) => log.debug({ err, consumerId: c.id }, 'key frame request failed'));
    });
  }

  /** The open transports of a session's router (any class: anything but WebRTC here would be a bug). */
  transports(sessionId: string): types.Transport[] {
    return [...(this.#transports.get(sessionId) ?? [])];
  }

  /** Data producer → what its node gateway does when a viewer starts its display channel (sends a whole frame). */
  readonly #tilesWanted = new Map<string, () => void>();

  /** Whole frames asked of a display channel's node: paced per channel, however many viewers start it. */
  readonly #tilesPacer = new TilesWantedPacer({ intervalMs: WHOLE_TILE_FRAME_INTERVAL_MS });

  /** `wanted` runs at viewers' tiles.start of this data producer (paced); returns the unsubscribe. */
  onTilesWanted(dataProducerId: string, wanted: () => void): () => void {
    this.#tilesWanted.set(dataProducerId, wanted);
    return () => {
      if (this.#tilesWanted.get(dataProducerId) !== wanted) return;
      this.#tilesWanted.delete(dataProducerId);
      this.#tilesPacer.forget(dataProducerId);
    };
  }

  /**
   * A viewer opened its display channel of this data producer: its node sends a whole frame, at once or (when
   * one was asked less than WHOLE_TILE_FRAME_INTERVAL_MS ago) at the end of that interval, for all who asked.
   */
  tilesWanted(dataProducerId: string): void {
    if (!this.#tilesWanted.has(dataProducerId)) return;
    this.#tilesPacer.want(dataProducerId, () => this.#tilesWanted.get(dataProducerId)?.());
  }

  /** The tile display is enabled (SCTP offered to nodes, display channels to viewers that ask). */
  get tileDisplay(): boolean {
    return this.#config.tileDisplay;
  }

  /**
   * The only transport factory: WebRTC with ICE + DTLS, so media is always
   * DTLS-SRTP. Plain RTP, pipe and direct transports are never created.
   * `sctp`: data channels too (SCTP over the same DTLS), only when the tile display is enabled.
   */
  async createWebRtcTransport(
    sessionId: string,
    appData: Record<string, unknown>,
    sctp = false,
  ): Promise<types.WebRtcTransport> {
    const router = await this.router(sessionId);
    const c = this.#config;
    return router.createWebRtcTransport({
      listenIps: [{ ip: c.listenIp, announcedIp: c.announcedIp }],
      enableUdp: c.enableUdp,
      enableTcp: c.enableTcp,
      preferUdp: true,
      initialAvailableOutgoingBitrate: c.initialAvailableOutgoingBitrate,
      ...(sctp && c.tileDisplay ? SCTP_OPTIONS : {}),
      appData,
    });
  }

  async closeRouter(sessionId: string): Promise<void> {
    const router = this.#routers.get(sessionId);
    this.#routers.delete(sessionId);
    if (router) (await router.catch(() => undefined))?.close();
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const worker of this.#workers) worker.close();
    this.#routers.clear();
  }
}
