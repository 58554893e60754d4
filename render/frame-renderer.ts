// Turns an app state into an I420 video frame: app surface on top, the seq
// stamp strip below it (cropped out by the viewer), converted in place into a
// reused buffer. A frame whose app area is unchanged (a key-up, say) redraws
// and reads back only the stamp strip: a full read-back allocates a frame-sized
// buffer (3.7 MB at 720p) whose external memory drives V8 into major GC steps
// on the frame path, and costs more than drawing the page.
import { createCanvas, type Canvas, type CanvasRenderingContext2D } from 'canvas';
import { drawStamp, STAMP_HEIGHT } from '../protocol/frame-stamp.js';
import type { AppViewport } from './app-types.js';
import type { Painter } from './replica-app.js';
import { wrtc } from './wrtc-globals.js';

export interface RenderedFrame {
  i420: Uint8Array;
  width: number;
  height: number;
  seq: number;
}

/** Packed RGBA pixels. */
export interface RgbaImage {
  data: Buffer;
  width: number;
  height: number;
  channels: 4;
}

export interface FrameTimings {
  renderMs: number;
  readbackMs: number;
  convertMs: number;
}

const even = (n: number) => n + (n % 2);

export class FrameRenderer {
  #canvas!: Canvas;
  #ctx!: CanvasRenderingContext2D;
  #i420!: Uint8Array;
  #view: AppViewport = { width: 0, height: 0 };
  /** The canvas thumbnails are scaled into (appArea), reused. */
  #small: Canvas | undefined;
  /** The I420 of the stamp strip alone (restamp), reused. */
  #strip: Uint8Array | undefined;
  /** The canvas's app area is what #i420 holds (false once draw() paints without converting). */
  #converted = false;
  lastTimings: FrameTimings = { renderMs: 0, readbackMs: 0, convertMs: 0 };

  #ensureSize(view: AppViewport): void {
    if (view.width === this.#view.width && view.height === this.#view.height) return;
    this.#view = { ...view };
    const w = even(view.width);
    const h = even(view.height + STAMP_HEIGHT);
    this.#canvas = createCanvas(w, h);
    this.#ctx = this.#canvas.getContext('2d');
    this.#i420 = new Uint8Array((w * h * 3) / 2);
    this.#strip = undefined;
    this.#converted = false;
  }

  /** Draws the app surface (`paint`, size `view`) and the stamp for `seq` into the canvas only: no read-back, no
   * conversion (thumbnails of unwatched replicas). */
  draw(view: AppViewport, seq: number, paint: Painter): void {
    this.#ensureSize(view);
    this.#converted = false;
    const ctx = this.#ctx;
    ctx.save();
    paint(ctx);
    ctx.restore();
    drawStamp(ctx, seq, this.#canvas.width, view.height);
  }

  /** One frame: `paint` draws the app surface of size `view`, the stamp says `seq`. */
  render(view: AppViewport, seq: number, paint: Painter): RenderedFrame {
    const t0 = performance.now();
    this.draw(view, seq, paint);
    const ctx = this.#ctx;
    const w = this.#canvas.width;
    const h = this.#canvas.height;
    const t1 = performance.now();
    const rgba = ctx.getImageData(0, 0, w, h);
    const t2 = performance.now();
    wrtc.nonstandard.rgbaToI420(
      { width: w, height: h, data: new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength) },
      { width: w, height: h, data: this.#i420 },
    );
    const t3 = performance.now();
    this.#converted = true;
    this.lastTimings = { renderMs: t1 - t0, readbackMs: t2 - t1, convertMs: t3 - t2 };
    return { i420: this.#i420, width: w, height: h, seq };
  }

  /**
   * The last frame again with the stamp for `seq`: only the strip is drawn,
   * read back and converted into the frame. For a state whose picture equals
   * the last rendered one (same viewport); undefined when the canvas no
   * longer holds that frame (nothing rendered yet, or draw() painted since).
   */
  restamp(view: AppViewport, seq: number): RenderedFrame | undefined {
    if (!this.#converted || view.width !== this.#view.width || view.height !== this.#view.height) return undefined;
    const t0 = performance.now();
    const ctx = this.#ctx;
    const w = this.#canvas.width;
    const h = this.#canvas.height;
    drawStamp(ctx, seq, w, view.height);
    // From an even row, so the strip's chroma rows are whole rows of the frame's.
    const top = view.height - (view.height % 2);
    const rows = h - top;
    const t1 = performance.now();
    const rgba = ctx.getImageData(0, top, w, rows);
    const t2 = performance.now();
    const strip = (this.#strip ??= new Uint8Array((w * rows * 3) / 2));
    wrtc.nonstandard.rgbaToI420(
      { width: w, height: rows, data: new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength) },
      { width: w, height: rows, data: strip },
    );
    // I420 planes: Y (w × h), then U and V (w/2 × h/2 each); the strip's rows go at `top` (top/2 for chroma).
    const ySize = w * h;
    const cSize = ySize / 4;
    const sy = w * rows;
    const sc = sy / 4;
    this.#i420.set(strip.subarray(0, sy), top * w);
    this.#i420.set(strip.subarray(sy, sy + sc), ySize + (top / 2) * (w / 2));
    this.#i420.set(strip.subarray(sy + sc, sy + 2 * sc), ySize + cSize + (top / 2) * (w / 2));
    const t3 = performance.now();
    this.lastTimings = { renderMs: t1 - t0, readbackMs: t2 - t1, convertMs: t3 - t2 };
    return { i420: this.#i420, width: w, height: h, seq };
  }

  /**
   * The app area (stamp strip excluded) of the last drawn frame as RGBA, at
   * most `maxWidth` wide (scaled down on the canvas, aspect kept), undefined
   * before the first. Scaling first reads back a thumbnail's pixels, not a
   * frame's (a 3.7 MB buffer at 720p, and its GC, on the shown replica's node).
   */
  appArea(maxWidth = Number.POSITIVE_INFINITY): RgbaImage | undefined {
    if (this.#view.width === 0) return undefined;
    const width = this.#canvas.width;
    const height = Math.max(1, this.#view.height);
    let ctx = this.#ctx;
    let w = width;
    let h = height;
    if (maxWidth < width) {
      w = Math.max(1, Math.floor(maxWidth));
      h = Math.max(1, Math.round((height * w) / width));
      if (this.#small?.width !== w || this.#small.height !== h) this.#small = createCanvas(w, h);
      ctx = this.#small.getContext('2d');
      ctx.drawImage(this.#canvas, 0, 0, width, height, 0, 0, w, h);
    }
    const img = ctx.getImageData(0, 0, w, h);
    return {
      data: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength),
      width: w,
      height: h,
      channels: 4,
    };
  }

  /** The canvas holding the last frame (for thumbnails and reference renders). */
  get canvas(): Canvas {
    return this.#canvas;
  }
}
