// Live thumbnails for the session list: every couple of seconds, for each
// replica whose picture changed, the app area of its canvas is scaled to a
// small JPEG with sharp and sent to the server.
// Off the frame path: it reads the last frame on its own timer (a replica
// nobody watches renders one for it then), and at most one encode per replica
// is in flight. The server keeps one source replica per session and declines
// the others' (`wanted: false`). A replica is offered first (`offer`): the
// server says whether it wants its thumbnail before anything is drawn or
// encoded, so a warm standby draws nothing for a thumbnail that would be
// declined. A declined replica is held back for `declinedRetryMs`, or until a
// viewer watches it, so it is not even asked again meanwhile. While someone types into a session
// its thumbnails wait for a tick at which the state stood still since the
// previous one (at most maxStaleMs): a thumbnail made mid-typing competes for
// the CPU with the frame being waited for, and the slowest keystrokes were
// mostly those that met one.
import sharp from 'sharp';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import { THUMBNAIL_TIMING } from '../protocol/thumbnail-timing.js';
import type { RgbaImage } from './frame-renderer.js';

const log = getLogger('thumbnailer');

/** What the thumbnailer reads of a replica (render/replica.ts). */
export interface ThumbnailSource {
  readonly id: string;
  /** Bumped on every state change. */
  readonly stateVersion: number;
  /** A viewer has a resumed consumer of its stream. */
  readonly watched: boolean;
  /** The app area's pixels, at most `maxWidth` wide. */
  thumbnailImage(maxWidth: number): Promise<{ image: RgbaImage; version: number } | undefined>;
}

export interface ThumbnailerOptions {
  /** Sends one JPEG (base64) for a replica to the server; `wanted: false`: the server declined it. */
  send: (replicaId: string, jpegBase64: string) => Promise<{ wanted: boolean }>;
  /**
   * Asks the server whether it wants a thumbnail of this replica now, before anything is drawn or encoded
   * (`wanted: false`: held back as if declined). Absent, or failing (a server without the request): drawn and
   * sent, the server's answer to the thumbnail decides.
   */
  offer?: (replicaId: string) => Promise<{ wanted: boolean }>;
  /** False while the node cannot talk to the server (nothing is encoded then). */
  active: () => boolean;
  /** Told each thumbnail's work (picture, encode) between two performance.now() times (the frame trace). */
  onWork?: (replicaId: string, startedAt: number, endedAt: number) => void;
  intervalMs?: number;
  /** Thumbnail width in pixels (never upscaled). */
  width?: number;
  quality?: number;
  /** A replica whose state changed since the previous tick gets no thumbnail, unless its last one is older than this. */
  maxStaleMs?: number;
  /** The clock for pauses and declined hold-backs (performance.now() by default; tests pass a fake). */
  now?: () => number;
}

/** What the thumbnailer did so far (tests and traces read it). */
export interface ThumbnailerCounts {
  /** Offers the server declined: nothing was drawn for them. */
  offersDeclined: number;
  /** Pictures asked of replicas (each may draw an unwatched replica's state). */
  drawn: number;
  /** Thumbnails sent, and those of them the server declined. */
  sent: number;
  sentDeclined: number;
}

interface Tracked {
  replica: ThumbnailSource;
  /** The replica's state version the last thumbnail sent showed (-1: none yet). */
  sentVersion: number;
  /** When the last thumbnail was sent (-Infinity: never). */
  sentAt: number;
  /** The state version seen at the previous tick. */
  seenVersion: number;
  busy: boolean;
  /** Declined by the server: not offered again before this time unless it was unwatched then and is watched now. */
  declined: { until: number; watched: boolean } | undefined;
}

export class Thumbnailer {
  readonly #opts: Required<Omit<ThumbnailerOptions, 'offer'>> & Pick<ThumbnailerOptions, 'offer'>;
  readonly #counts: ThumbnailerCounts = { offersDeclined: 0, drawn: 0, sent: 0, sentDeclined: 0 };
  readonly #tracked = new Map<string, Tracked>();
  readonly #timer: NodeJS.Timeout;

  constructor(opts: ThumbnailerOptions) {
    this.#opts = {
      intervalMs: THUMBNAIL_TIMING.intervalMs,
      width: 320,
      quality: 72,
      maxStaleMs: THUMBNAIL_TIMING.movingMaxStaleMs,
      now: () => performance.now(),
      onWork: () => undefined,
      ...opts,
    };
    this.#timer = setInterval(() => this.#tick(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  track(replica: ThumbnailSource): void {
    this.untrack(replica.id);
    this.#tracked.set(replica.id, {
      replica,
      sentVersion: -1,
      sentAt: -Infinity,
      seenVersion: -1,
      busy: false,
      declined: undefined,
    });
  }

  untrack(replicaId: string): void {
    this.#tracked.delete(replicaId);
  }

  get counts(): Readonly<ThumbnailerCounts> {
    return this.#counts;
  }

  close(): void {
    clearInterval(this.#timer);
    for (const id of [...this.#tracked.keys()]) this.untrack(id);
  }

  /** The server's answer to an offer: true without an offer, or when the server cannot answer one (drawn then). */
  async #offer(replicaId: string): Promise<boolean> {
    if (!this.#opts.offer) return true;
    try {
      return (await this.#opts.offer(replicaId)).wanted;
    } catch (err) {
      log.debug({ err, replicaId }, 'thumbnail offer not answered; drawing it');
      return true;
    }
  }

  #tick(): void {
    if (!this.#opts.active()) return;
    const now = this.#opts.now();
    for (const t of this.#tracked.values()) {
      const version = t.replica.stateVersion;
      const moving = version !== t.seenVersion;
      t.seenVersion = version;
      if (t.busy || version === t.sentVersion) continue;
      // Held back until declinedRetryMs, or until a viewer watches it now (a failover) when it was declined
      // unwatched. Not when a probe resumed it and paused it again between ticks: that is a standby still.
      if (t.declined && now < t.declined.until && !(t.replica.watched && !t.declined.watched)) continue;
      t.declined = undefined;
      // Changed since the previous tick (someone is typing): wait for a pause, within the staleness bound.
      if (moving && now - t.sentAt < this.#opts.maxStaleMs) continue;
      const previous = t.sentVersion;
      t.busy = true;
      const startedAt = performance.now();
      const decline = () => {
        t.declined = { until: this.#opts.now() + THUMBNAIL_TIMING.declinedRetryMs, watched: t.replica.watched };
      };
      this.#offer(t.replica.id)
        .then(async (offered) => {
          if (!offered) {
            // Not wanted now: nothing drawn or encoded; asked again when the hold-back ends.
            this.#counts.offersDeclined++;
            decline();
            return;
          }
          // A copy of the app area, taken in the replica's order of app calls (its canvas is not drawn meanwhile).
          this.#counts.drawn++;
          const shot = await t.replica.thumbnailImage(this.#opts.width);
          if (!shot || shot.version === t.sentVersion) return;
          t.sentVersion = shot.version;
          t.sentAt = now;
          const jpeg = await encodeThumbnail(shot.image, this.#opts.width, this.#opts.quality);
          this.#opts.onWork(t.replica.id, startedAt, performance.now());
          if (jpeg.length > LIMITS.maxThumbnailBytes) throw new Error(`thumbnail too large: ${jpeg.length} bytes`);
          this.#counts.sent++;
          const { wanted } = await this.#opts.send(t.replica.id, jpeg.toString('base64'));
          if (wanted === false) {
            // Not kept: offer this state again when the hold-back ends (the source may be gone by then).
            this.#counts.sentDeclined++;
            t.sentVersion = previous;
            decline();
          }
        })
        .catch((err: unknown) => {
          t.sentVersion = previous; // try again next time
          log.debug({ err, replicaId: t.replica.id }, 'thumbnail not sent');
        })
        .finally(() => (t.busy = false));
    }
  }
}

export interface RgbImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 3 | 4;
}

export function encodeThumbnail(img: RgbImage, width: number, quality: number): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } })
    .resize({ width: Math.min(width, img.width), withoutEnlargement: true })
    .jpeg({ quality })
    .toBuffer();
}
