// Live thumbnails for the session list: every couple of seconds, for each
// replica whose picture changed, the app area of its last frame is converted
// back from I420, scaled to a small JPEG with sharp and sent to the server.
// Off the frame path: it reads the last frame on its own timer (a replica
// nobody watches renders one for it then), and at most one encode per replica
// is in flight.
import sharp from 'sharp';
import { STAMP_HEIGHT } from '../protocol/frame-stamp.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import type { RenderedFrame } from './frame-renderer.js';
import type { Replica } from './replica.js';

const log = getLogger('thumbnailer');

export interface ThumbnailerOptions {
  /** Sends one JPEG (base64) for a replica to the server. */
  send: (replicaId: string, jpegBase64: string) => Promise<unknown>;
  /** False while the node cannot talk to the server (nothing is encoded then). */
  active: () => boolean;
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
    this.#opts = { intervalMs: 2000, width: 320, quality: 72, ...opts };
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
      const shot = t.replica.thumbnailFrame();
      if (!shot || shot.version === t.sentVersion) continue;
      const { frame } = shot;
      const previous = t.sentVersion;
      t.sentVersion = shot.version;
      t.busy = true;
      // The renderer reuses the I420 buffer: convert now, synchronously, before the next frame.
      const rgb = appAreaRgb(frame);
      encodeThumbnail(rgb, this.#opts.width, this.#opts.quality)
        .then((jpeg) => {
          if (jpeg.length > LIMITS.maxThumbnailBytes) throw new Error(`thumbnail too large: ${jpeg.length} bytes`);
          return this.#opts.send(t.replica.id, jpeg.toString('base64'));
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
}

/** The app area (stamp strip excluded) of an I420 frame as packed RGB (BT.601 limited range, as libyuv wrote it). */
export function appAreaRgb(frame: RenderedFrame): RgbImage {
  const { i420, width } = frame;
  const height = Math.max(1, frame.height - STAMP_HEIGHT);
  const ySize = width * frame.height;
  const cw = width >> 1;
  const uOff = ySize;
  const vOff = ySize + cw * (frame.height >> 1);
  const out = Buffer.allocUnsafe(width * height * 3);
  let o = 0;
  for (let y = 0; y < height; y++) {
    const yRow = y * width;
    const cRow = (y >> 1) * cw;
    for (let x = 0; x < width; x++) {
      const c = 1.164 * ((i420[yRow + x] ?? 16) - 16);
      const u = (i420[uOff + cRow + (x >> 1)] ?? 128) - 128;
      const v = (i420[vOff + cRow + (x >> 1)] ?? 128) - 128;
      out[o++] = clamp255(c + 1.596 * v);
      out[o++] = clamp255(c - 0.813 * v - 0.391 * u);
      out[o++] = clamp255(c + 2.018 * u);
    }
  }
  return { data: out, width, height };
}

function clamp255(v: number): number {
  return v < 0 ? 0 : v > 255 ? 255 : Math.round(v);
}

export function encodeThumbnail(img: RgbImage, width: number, quality: number): Promise<Buffer> {
  return sharp(img.data, { raw: { width: img.width, height: img.height, channels: 3 } })
    .resize({ width: Math.min(width, img.width), withoutEnlargement: true })
    .jpeg({ quality })
    .toBuffer();
}
