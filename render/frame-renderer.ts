// Turns an app state into an I420 video frame: app surface on top, the seq
// stamp strip below it (cropped out by the viewer), converted in place into a
// reused buffer so steady-state rendering allocates nothing per frame.
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
  lastTimings: FrameTimings = { renderMs: 0, readbackMs: 0, convertMs: 0 };

  #ensureSize(view: AppViewport): void {
    if (view.width === this.#view.width && view.height === this.#view.height) return;
    this.#view = { ...view };
    const w = even(view.width);
    const h = even(view.height + STAMP_HEIGHT);
    this.#canvas = createCanvas(w, h);
    this.#ctx = this.#canvas.getContext('2d');
    this.#i420 = new Uint8Array((w * h * 3) / 2);
  }

  /** Draws the app surface (`paint`, size `view`) and the stamp for `seq` into the canvas only: no read-back, no
   * conversion (thumbnails of unwatched replicas). */
  draw(view: AppViewport, seq: number, paint: Painter): void {
    this.#ensureSize(view);
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
    this.lastTimings = { renderMs: t1 - t0, readbackMs: t2 - t1, convertMs: t3 - t2 };
    return { i420: this.#i420, width: w, height: h, seq };
  }

  /** The app area (stamp strip excluded) of the last drawn frame as RGBA, undefined before the first. */
  appArea(): RgbaImage | undefined {
    if (this.#view.width === 0) return undefined;
    const width = this.#canvas.width;
    const height = Math.max(1, this.#view.height);
    const img = this.#ctx.getImageData(0, 0, width, height);
    return { data: Buffer.from(img.data.buffer, img.data.byteOffset, img.data.byteLength), width, height, channels: 4 };
  }

  /** The canvas holding the last frame (for thumbnails and reference renders). */
  get canvas(): Canvas {
    return this.#canvas;
  }
}
