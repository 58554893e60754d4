// The tile display of one stream (docs/tile-display.md): a canvas the shown
// replica's display channel draws into, beside the stream's <video>
// (video-sink.ts). Each message is decoded by protocol/tile-frame.ts and
// checked by TileOrder; its PNG tiles are decoded off the main thread
// (WebCodecs' ImageDecoder on the bytes as they are; createImageBitmap of a
// Blob where it is missing) and each must be exactly its rectangle's size; only then
// are they all drawn, in arrival order, into their rectangles, so the
// compositor redraws those rows, not a video frame. When a frame's last part
// is drawn its seq goes to the stream's own FrameTimeline (the one its stamp
// reader feeds), as a frame shown now. The first refusal breaks the sink:
// nothing more is drawn, and the owner falls back to video.
import { decodeTileMessage, type Tile } from '../protocol/tile-frame.js';
import type { AppSize } from './coords.js';
import type { FrameTimeline } from './frame-timeline.js';
import type { SinkPicture } from './stream-sink.js';
import { TileOrder } from './tile-order.js';

/** Messages waiting to be decoded and drawn at most; beyond, the sink is too far behind to be the display. */
const MAX_QUEUED = 32;

/** A display message the sink will not draw (not binary, too far behind, a PNG of the wrong size). */
export class TileDrawError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TileDrawError';
  }
}

export interface TileSinkCounters {
  messages: number;
  frames: number;
  tiles: number;
  /** Time decoding and drawing (ms, including the awaited decodes). */
  drawMs: number;
}

export class TileSink {
  readonly element: HTMLCanvasElement;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #timeline: FrameTimeline;
  readonly #order = new TileOrder();
  readonly #onBroken: (err: Error) => void;
  #chain: Promise<void> = Promise.resolve();
  #queued = 0;
  #broken: Error | null = null;
  readonly counters: TileSinkCounters = { messages: 0, frames: 0, tiles: 0, drawMs: 0 };

  /** `timeline`: the stream's (its stamp reader's); `onBroken`: a message was refused (called once). */
  constructor(timeline: FrameTimeline, onBroken: (err: Error) => void) {
    this.#timeline = timeline;
    this.#onBroken = onBroken;
    const canvas = document.createElement('canvas');
    canvas.className = 'stream tiles standby';
    canvas.style.height = '100%';
    this.element = canvas;
    // Desynchronized: a drawn tile reaches the screen without a main frame of the page (bench/tile-profile.ts:
    // the renderer's compositor thread 2.3 → 1.0 % of a core, main-thread tasks ~100 → ~65 ms/s at 10 keys/s).
    const ctx = canvas.getContext('2d', { alpha: false, desynchronized: true });
    if (!ctx) throw new Error('no 2D canvas');
    this.#ctx = ctx;
  }

  /** A whole frame was drawn in full: the canvas shows the stream. */
  get synced(): boolean {
    return this.#order.synced && !this.#broken;
  }

  get broken(): Error | null {
    return this.#broken;
  }

  /** The app size the canvas shows; null before a whole frame. */
  appSize(): AppSize | null {
    return this.#order.synced ? this.#order.size : null;
  }

  picture(): SinkPicture | null {
    const size = this.appSize();
    return size ? { source: this.element, width: size.width, height: size.height } : null;
  }

  /** One message of the display channel (queued behind the ones before it). */
  receive(data: ArrayBuffer | Blob | string): void {
    if (this.#broken) return;
    if (!(data instanceof ArrayBuffer)) return this.#break(new TileDrawError('a display message that is not binary'));
    if (++this.#queued > MAX_QUEUED) return this.#break(new TileDrawError(`${MAX_QUEUED} display messages behind`));
    this.#chain = this.#chain.then(() => this.#show(new Uint8Array(data)).finally(() => this.#queued--));
  }

  async #show(bytes: Uint8Array): Promise<void> {
    if (this.#broken) return;
    const t0 = performance.now();
    try {
      const msg = decodeTileMessage(bytes);
      const verdict = this.#order.accept(msg, msg.tiles);
      this.counters.messages++;
      if (!verdict.draw) return;
      const bitmaps = await Promise.all(msg.tiles.map(decodeTile));
      if (this.#broken) {
        for (const b of bitmaps) b.close();
        return;
      }
      if (msg.whole && msg.part === 0) this.#resize(msg.width, msg.height);
      for (let i = 0; i < bitmaps.length; i++) {
        const bitmap = bitmaps[i];
        const tile = msg.tiles[i];
        if (!bitmap || !tile) continue;
        this.#ctx.drawImage(bitmap, tile.x, tile.y);
        bitmap.close();
      }
      this.counters.tiles += bitmaps.length;
      this.counters.drawMs += performance.now() - t0;
      if (verdict.shows === null) return;
      this.counters.frames++;
      const at = performance.now();
      this.#timeline.onFrame(at);
      this.#timeline.onSeq(verdict.shows, at);
    } catch (err) {
      this.#break(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #resize(width: number, height: number): void {
    if (this.element.width === width && this.element.height === height) return;
    this.element.width = width;
    this.element.height = height;
  }

  #break(err: Error): void {
    if (this.#broken) return;
    this.#broken = err;
    this.#onBroken(err);
  }

  dispose(): void {
    this.#broken ??= new Error('disposed');
    this.element.remove();
  }
}

/** A decoded tile: drawn into the canvas, then closed. */
type TileImage = (ImageBitmap | VideoFrame) & CanvasImageSource;

/**
 * A PNG tile as an image of exactly its rectangle's size (else refused: a lying or broken node). WebCodecs'
 * ImageDecoder where the page has it (a secure context) decodes the bytes as they are, off the main thread;
 * else createImageBitmap of a Blob (which the browser process holds for the renderer: an IPC round per tile).
 */
async function decodeTile(tile: Tile): Promise<TileImage> {
  const bytes = tile.payload as Uint8Array<ArrayBuffer>;
  let image: TileImage;
  let width: number;
  let height: number;
  if (typeof ImageDecoder === 'function') {
    const decoder = new ImageDecoder({ data: bytes, type: 'image/png' });
    try {
      const frame = (await decoder.decode()).image;
      [image, width, height] = [frame, frame.displayWidth, frame.displayHeight];
    } finally {
      decoder.close();
    }
  } else {
    const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/png' }));
    [image, width, height] = [bitmap, bitmap.width, bitmap.height];
  }
  if (width !== tile.width || height !== tile.height) {
    image.close();
    throw new TileDrawError(`a ${width}x${height} PNG in a ${tile.width}x${tile.height} tile`);
  }
  return image;
}
