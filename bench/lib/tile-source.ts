// The writer side of the tile-display spike: one in-process writer replica
// (the app's state machine and render, as a renderer node runs them) drawing
// into its own 1280x720 canvas, and per key the app's damage report turned
// into row bands by render/frame-damage.ts (the bands the real renderer reads
// back), narrowed to the columns the damage covers, read back and encoded as
// tiles (bench/lib/tile-frame.ts). No stamp strip, no I420, no VP8.
import { deflateSync } from 'node:zlib';
import { createCanvas, type Canvas, type CanvasRenderingContext2D } from 'canvas';
import type { InputEvent } from '../../protocol/input.js';
import type { App, AppViewport } from '../../render/app-types.js';
import { damageBands } from '../../render/frame-damage.js';
import type { FrameInfo } from '../../render/sdk/damage.js';
import { bandRects, encodeTileMessage, type Tile, type TileFormat } from './tile-frame.js';
import { sequenced } from './writer-inputs.js';

/** What one frame cost the writer side. */
export interface TileFrameCost {
  /** The app's render into the canvas. */
  renderMs: number;
  /** Read-back and encoding of the damaged tiles (the tile path's replacement of I420 + VP8). */
  encodeMs: number;
  bytes: number;
  tiles: number;
  /** Pixels sent (sum of the tiles' areas). */
  pixels: number;
  /** The frame went whole (no usable damage: first frame, or damage over most of the area). */
  whole: boolean;
}

/** PNG zlib level (node-canvas; 0-9) and raw-RGBA deflate level: fast levels, text compresses well anyway. */
const PNG_LEVEL = 3;
const DEFLATE_LEVEL = 1;

export class TileSource<S> {
  readonly #app: App<S>;
  readonly #format: TileFormat;
  readonly #canvas: Canvas;
  readonly #ctx: CanvasRenderingContext2D;
  readonly #view: AppViewport;
  #state: S;
  #seq = 0;
  #frameId = 0;
  /** The FrameInfo id of the frame the page holds (null: none, the next frame goes whole). */
  #shown: number | null = null;

  constructor(app: App<S>, view: AppViewport, format: TileFormat, preload: readonly InputEvent[]) {
    this.#app = app;
    this.#format = format;
    this.#view = { ...view };
    this.#canvas = createCanvas(view.width, view.height);
    this.#ctx = this.#canvas.getContext('2d');
    let state = app.init(view);
    for (const ev of preload) state = app.apply(state, sequenced(++this.#seq, ev));
    this.#state = state;
  }

  get view(): AppViewport {
    return this.#view;
  }

  /** The next frame goes whole (a new page: the keyframe equivalent). */
  reset(): void {
    this.#shown = null;
  }

  /** Applies one input (a key down), as the replica applies a sequenced input. */
  apply(ev: InputEvent): void {
    this.#state = this.#app.apply(this.#state, sequenced(++this.#seq, ev));
  }

  /** Renders the current state and encodes what changed since the frame the page holds. */
  frame(): { message: Uint8Array; cost: TileFrameCost } {
    const t0 = performance.now();
    const info: FrameInfo = { id: ++this.#frameId, over: this.#shown };
    const ctx = this.#ctx;
    ctx.save();
    const damage = this.#app.render(this.#state, ctx, info);
    ctx.restore();
    const t1 = performance.now();
    const bands = info.over === null ? null : damageBands(damage, this.#view);
    const rects =
      bands === null
        ? [{ x: 0, y: 0, ...this.#view }]
        : bandRects(damage as Array<{ x: number; y: number; width: number; height: number }>, bands, this.#view.width);
    const tiles = rects.map((r) => this.#encode(r));
    const message = encodeTileMessage({ seq: this.#seq, format: this.#format, tiles }, this.#view);
    this.#shown = info.id;
    return {
      message,
      cost: {
        renderMs: t1 - t0,
        encodeMs: performance.now() - t1,
        bytes: message.byteLength,
        tiles: tiles.length,
        pixels: rects.reduce((n, r) => n + r.width * r.height, 0),
        whole: bands === null,
      },
    };
  }

  #encode(r: { x: number; y: number; width: number; height: number }): Tile {
    if (this.#format === 'png') {
      const c = createCanvas(r.width, r.height);
      c.getContext('2d').drawImage(this.#canvas, r.x, r.y, r.width, r.height, 0, 0, r.width, r.height);
      return { ...r, payload: c.toBuffer('image/png', { compressionLevel: PNG_LEVEL }) };
    }
    const img = this.#ctx.getImageData(r.x, r.y, r.width, r.height);
    return { ...r, payload: deflateSync(img.data, { level: DEFLATE_LEVEL }) };
  }
}
