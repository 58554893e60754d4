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

  /** One frame: `paint` draws the app surface of size `view`, the stamp says `seq`. */
  render(view: AppViewport, seq: number, paint: Painter): RenderedFrame {
    this.#ensureSize(view);
    const ctx = this.#ctx;
    const w = this.#canvas.width;
    const h = this.#canvas.height;
    const t0 = performance.now();
    ctx.save();
    paint(ctx);
    ctx.restore();
    drawStamp(ctx, seq, w, view.height);
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

  /** The canvas holding the last frame (for thumbnails and reference renders). */
  get canvas(): Canvas {
    return this.#canvas;
  }
}
