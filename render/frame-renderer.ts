// Turns an app state into an I420 video frame: app surface on top, the seq
// stamp strip below it (cropped out by the viewer), converted in place into one
// reused buffer. Only the rows that changed are read back and converted: the
// rows of the app's damage report (render/frame-damage.ts) when it is about the
// frame the canvas and the I420 both hold, plus the stamp strip; everything
// else (a first frame, a resize, a resume, an app that reports nothing or
// nonsense) reads back the whole frame. A full read-back allocates a
// frame-sized buffer (3.7 MB at 720p; node-canvas's getImageData cannot read
// into a given one) whose external memory drives V8 into major GC steps on the
// frame path, and costs more than drawing the page.
import { createCanvas, type Canvas, type CanvasRenderingContext2D } from 'canvas';
import { drawStamp, STAMP_HEIGHT } from '../protocol/frame-stamp.js';
import type { AppViewport } from './app-types.js';
import { damageBands, mergeBands, type RowBand } from './frame-damage.js';
import type { Painter } from './replica-app.js';
import type { FrameInfo } from './sdk/damage.js';
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
  /** Frame rows read back and converted (the frame's height when whole). */
  rows: number;
}

const even = (n: number) => n + (n % 2);

/**
 * Partial read-backs go by chunks of this many rows (even: whole chroma rows): wrtc converts only into a buffer
 * of exactly the rows it is given, so one chunk-sized buffer is reused for all of them.
 */
const CHUNK_ROWS = 16;

/** Frame ids are unique in the process, so no app state can mistake one renderer's frame for another's. */
let lastFrameId = 0;

export class FrameRenderer {
  #canvas!: Canvas;
  #ctx!: CanvasRenderingContext2D;
  #i420!: Uint8Array;
  /** Where CHUNK_ROWS read-back rows are converted before they are copied into #i420 (reused). */
  #scratch: Uint8Array | undefined;
  #view: AppViewport = { width: 0, height: 0 };
  /** The canvas thumbnails are scaled into (appArea), reused. */
  #small: Canvas | undefined;
  /** The canvas's app area is what #i420 holds (false once draw() paints, or render() paints without converting). */
  #converted = false;
  /** The canvas holds a whole frame render() drew (false before one, and once draw() paints). */
  #framed = false;
  /** The FrameInfo id of the frame the canvas and #i420 both hold (null: none the app was told about). */
  #mirrored: number | null = null;
  lastTimings: FrameTimings = { renderMs: 0, readbackMs: 0, convertMs: 0, rows: 0 };
  /**
   * The app-area rows the last render() changed (its damage bands), null when it read back the whole frame:
   * the tile display sends these (render/tile-stream.ts).
   */
  lastBands: RowBand[] | null = null;

  #ensureSize(view: AppViewport): void {
    if (view.width === this.#view.width && view.height === this.#view.height) return;
    this.#view = { ...view };
    const w = even(view.width);
    const h = even(view.height + STAMP_HEIGHT);
    this.#canvas = createCanvas(w, h);
    this.#ctx = this.#canvas.getContext('2d');
    this.#i420 = new Uint8Array((w * h * 3) / 2);
    this.#scratch = undefined;
    this.#converted = false;
    this.#framed = false;
    this.#mirrored = null;
  }

  /**
   * The FrameInfo for the next frame of size `view`, to hand to the app's render: `over` is the frame the
   * canvas holds when the next render may repaint only its damage, null when it repaints all (`whole`: the
   * caller wants a whole frame, e.g. for a resume's keyframe). What the I420 lacks is render()'s to read back.
   */
  nextFrame(view: AppViewport, whole = false): FrameInfo {
    const same = view.width === this.#view.width && view.height === this.#view.height;
    const over = !whole && same ? this.#mirrored : null;
    return { id: ++lastFrameId, over };
  }

  /** Paints the app surface and the stamp; the painter's answer (the app's damage report, unchecked). */
  #paint(view: AppViewport, seq: number, paint: Painter): unknown {
    this.#ensureSize(view);
    const ctx = this.#ctx;
    ctx.save();
    let damage: unknown;
    try {
      // The app draws on its surface only: never on the stamp strip or the padding row or column of an odd
      // size, which no app repaints (what it left there would pile up frame after frame).
      ctx.beginPath();
      ctx.rect(0, 0, view.width, view.height);
      ctx.clip();
      ctx.beginPath();
      damage = paint(ctx);
    } finally {
      ctx.restore();
    }
    drawStamp(ctx, seq, this.#canvas.width, view.height);
    return damage;
  }

  /** Draws the app surface (`paint`, size `view`) and the stamp for `seq` into the canvas only: no read-back, no
   * conversion (thumbnails of unwatched replicas). */
  draw(view: AppViewport, seq: number, paint: Painter): void {
    this.#converted = false;
    this.#framed = false;
    this.#mirrored = null;
    this.#paint(view, seq, paint);
  }

  /**
   * One frame: `paint` draws the app surface of size `view`, the stamp says `seq`. `frame` is the FrameInfo
   * the painter's app was given (nextFrame); without one, or when it is not about the frame held now, the
   * whole frame is read back. `convert` false: nothing is read back into the I420 (no video watches; the
   * tile display reads the canvas), which the next converting frame then reads back whole.
   */
  render(view: AppViewport, seq: number, paint: Painter, frame?: FrameInfo, convert = true): RenderedFrame {
    const t0 = performance.now();
    const same = view.width === this.#view.width && view.height === this.#view.height;
    const incremental = frame !== undefined && frame.over !== null && same && frame.over === this.#mirrored;
    const i420Held = same && this.#converted;
    this.#converted = false;
    this.#mirrored = null;
    const damage = this.#paint(view, seq, paint);
    const t1 = performance.now();
    const w = this.#canvas.width;
    const h = this.#canvas.height;
    const bands = incremental ? damageBands(damage, view) : null;
    this.lastBands = bands;
    let timing = { readbackMs: 0, convertMs: 0, rows: 0 };
    if (convert) {
      const all = bands === null || !i420Held;
      timing = this.#convertRows(all ? [{ top: 0, bottom: h }] : mergeBands([...bands, this.#stripBand(view)]));
      this.#converted = true;
    }
    this.#framed = true;
    this.#mirrored = frame?.id ?? null;
    this.lastTimings = { renderMs: t1 - t0, ...timing };
    return { i420: this.#i420, width: w, height: h, seq };
  }

  /** The I420 holds the canvas's picture (the last frame was converted). */
  get converted(): boolean {
    return this.#converted;
  }

  /** The stamp strip's rows, from an even row (so its chroma rows are whole rows of the frame's). */
  #stripBand(view: AppViewport): RowBand {
    return { top: view.height - (view.height % 2), bottom: this.#canvas.height };
  }

  /** Reads back `bands` (even rows, sorted, disjoint) of the canvas and converts them into #i420. */
  #convertRows(bands: readonly RowBand[]): { readbackMs: number; convertMs: number; rows: number } {
    const h = this.#canvas.height;
    const timing = { readbackMs: 0, convertMs: 0, rows: 0 };
    const whole = bands.length === 1 && bands[0]?.top === 0 && bands[0].bottom >= h;
    if (whole || h < CHUNK_ROWS) {
      this.#convert(0, h, this.#i420, timing);
      return timing;
    }
    // The chunks that cover each band; the last one of a band ends at the band's end (it may overlap the one
    // before, or rows past the band: reading a row again reads the same canvas pixels).
    let done = 0;
    for (const band of bands) {
      for (let top = Math.max(band.top, done); top < band.bottom; top += CHUNK_ROWS) {
        const at = Math.max(0, Math.min(top, h - CHUNK_ROWS));
        this.#convertChunk(at, timing);
        done = at + CHUNK_ROWS;
      }
    }
    return timing;
  }

  /** Converts rows [top, top + CHUNK_ROWS) into #i420 through the scratch buffer. */
  #convertChunk(top: number, timing: { readbackMs: number; convertMs: number; rows: number }): void {
    const w = this.#canvas.width;
    const h = this.#canvas.height;
    const sy = w * CHUNK_ROWS;
    const sc = sy / 4;
    const part = (this.#scratch ??= new Uint8Array(sy + 2 * sc));
    this.#convert(top, CHUNK_ROWS, part, timing);
    const t0 = performance.now();
    // I420 planes: Y (w × h), then U and V (w/2 × h/2 each); the chunk's rows go at `top` (top/2 for chroma).
    const ySize = w * h;
    const cSize = ySize / 4;
    this.#i420.set(part.subarray(0, sy), top * w);
    this.#i420.set(part.subarray(sy, sy + sc), ySize + (top / 2) * (w / 2));
    this.#i420.set(part.subarray(sy + sc, sy + 2 * sc), ySize + cSize + (top / 2) * (w / 2));
    timing.convertMs += performance.now() - t0;
  }

  /** Reads back rows [top, top + rows) and converts them into `out` (exactly their I420 size). */
  #convert(
    top: number,
    rows: number,
    out: Uint8Array,
    timing: { readbackMs: number; convertMs: number; rows: number },
  ): void {
    const w = this.#canvas.width;
    const t0 = performance.now();
    const rgba = this.#ctx.getImageData(0, top, w, rows);
    const t1 = performance.now();
    wrtc.nonstandard.rgbaToI420(
      { width: w, height: rows, data: new Uint8Array(rgba.data.buffer, rgba.data.byteOffset, rgba.data.byteLength) },
      { width: w, height: rows, data: out },
    );
    timing.readbackMs += t1 - t0;
    timing.convertMs += performance.now() - t1;
    timing.rows += rows;
  }

  /**
   * The last frame again with the stamp for `seq`: only the strip is drawn,
   * read back and converted into the frame (all of it when the I420 lacks the
   * picture; nothing with `convert` false). For a state whose picture equals
   * the last rendered one (same viewport); undefined when the canvas no
   * longer holds that frame (nothing rendered yet, or draw() painted since).
   */
  restamp(view: AppViewport, seq: number, convert = true): RenderedFrame | undefined {
    if (!this.#framed || view.width !== this.#view.width || view.height !== this.#view.height) return undefined;
    const t0 = performance.now();
    drawStamp(this.#ctx, seq, this.#canvas.width, view.height);
    const t1 = performance.now();
    let timing = { readbackMs: 0, convertMs: 0, rows: 0 };
    if (convert) {
      timing = this.#convertRows([this.#converted ? this.#stripBand(view) : { top: 0, bottom: this.#canvas.height }]);
      this.#converted = true;
    }
    this.lastTimings = { renderMs: t1 - t0, ...timing };
    return { i420: this.#i420, width: this.#canvas.width, height: this.#canvas.height, seq };
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
