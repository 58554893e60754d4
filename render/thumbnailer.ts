// Live thumbnails for the session list: every couple of seconds, for each
// replica whose picture changed, the app area of its canvas is scaled to a
// small JPEG with sharp and sent to the server.
// Off the frame path: it reads the last frame on its own timer (a replica
// nobody watches renders one for it then), and at most one encode per replica
// is in flight.
import sharp from 'sharp';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import type { Replica } from './replica.js';

const log = getLogger('thumbnailer');

export interface ThumbnailerOptions {
  /** Sends one JPEG (base64) for a replica to the server. */
  send: (replicaId: string, jpegBase64: string) => Promise<unknown>;
  /** False while the node cannot talk to the server (nothing is encoded then). */
  active: () => boolean;
  /** Told each thumbnail's work (picture, encode) between two performance.now() times (the frame trace). */
  onWork?: (replicaId: string, startedAt: number, endedAt: number) => void;
  intervalMs?: number;
  /** Thumbnail width in pixels (never upscaled). */
  width?: number;
  quality?: number;
}

interface Tracked {
  replica: Replica<unknown>;
  /** The replica's state version the last thumbnail sent showed (-1: none yet). */
  sentVersion: number;
  busy: boolean;
}

export class Thumbnailer {
  readonly #opts: Required<ThumbnailerOptions>;
  readonly #tracked = new Map<string, Tracked>();
  readonly #timer: NodeJS.Timeout;

  constructor(opts: ThumbnailerOptions) {
    this.#opts = { intervalMs: 2000, width: 320, quality: 72, onWork: () => undefined, ...opts };
    this.#timer = setInterval(() => this.#tick(), this.#opts.intervalMs);
    this.#timer.unref();
  }

  track(replica: Replica<unknown>): void {
    this.untrack(replica.id);
    this.#tracked.set(replica.id, { replica, sentVersion: -1, busy: false });
  }

  untrack(replicaId: string): void {
    this.#tracked.delete(replicaId);
  }

  close(): void {
    clearInterval(this.#timer);
    for (const id of [...this.#tracked.keys()]) this.untrack(id);
  }

  #tick(): void {
    if (!this.#opts.active()) return;
    for (const t of this.#tracked.values()) {
      if (t.busy || t.replica.stateVersion === t.sentVersion) continue;
      const previous = t.sentVersion;
      t.busy = true;
      const startedAt = performance.now();
      // A copy of the app area, taken in the replica's order of app calls (its canvas is not drawn meanwhile).
      t.replica
        .thumbnailImage()
        .then(async (shot) => {
          if (!shot || shot.version === t.sentVersion) return;
          t.sentVersion = shot.version;
          const jpeg = await encodeThumbnail(shot.image, this.#opts.width, this.#opts.quality);
          this.#opts.onWork(t.replica.id, startedAt, performance.now());
          if (jpeg.length > LIMITS.maxThumbnailBytes) throw new Error(`thumbnail too large: ${jpeg.length} bytes`);
          await this.#opts.send(t.replica.id, jpeg.toString('base64'));
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
