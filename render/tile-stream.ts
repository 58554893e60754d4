// One replica's tile display stream (docs/tile-display.md): while some viewer
// has its display channel open (the server's `replica.tiles` on), every frame
// the replica renders goes out as PNG tiles of the rows it changed
// (FrameRenderer.lastBands: the damage bands the video path reads back), a
// picture-neutral frame (restamp, keepalive) as a header alone, and the first
// frame after `on` (and after anything not sent) whole, from the canvas, which
// always holds the full picture. A delta's bands are narrowed to what changed
// against the picture the viewer holds (render/tile-diff.ts: the changed rows'
// extent and runs of changed columns; a band with nothing changed goes as no
// tile). Tiles are cut from the canvas at once (the
// next render paints over it) and encoded off the event loop (node-canvas's
// async PNG encode); messages leave in frame order. Standbys send nothing: no
// viewer opens their channel.
import { createCanvas, type Canvas } from 'canvas';
import { getLogger } from '../protocol/logger.js';
import { packTileFrame, type Tile, type TileRect } from '../protocol/tile-frame.js';
import type { AppViewport } from './app-types.js';
import type { RowBand } from './frame-damage.js';
import { changedRects } from './tile-diff.js';

const log = getLogger('tile-stream');

/** Tiles are cut to at most this many rows (bounds a PNG, and encodes a whole frame in parallel pieces). */
const TILE_ROWS = 64;
/** PNG zlib level: fast; text compresses well anyway (the spike's choice, bench/lib/tile-source.ts). */
const PNG_LEVEL = 3;

/** Where messages go: false when one could not be sent (channel not open, or backed up): the next frame goes whole. */
export type TileSend = (message: Uint8Array) => boolean;

export interface TileStreamCounters {
  frames: number;
  wholeFrames: number;
  messages: number;
  bytes: number;
  /** Frames not sent (channel not open or backed up, an encode failed). */
  dropped: number;
}

/** The rectangles of `bands` (null: the whole area) inside `view`, cut to TILE_ROWS rows each. */
export function tileRects(bands: readonly RowBand[] | null, view: AppViewport): TileRect[] {
  const rows = bands ?? [{ top: 0, bottom: view.height }];
  const out: TileRect[] = [];
  for (const b of rows) {
    const bottom = Math.min(b.bottom, view.height);
    for (let y = Math.max(0, b.top); y < bottom; y += TILE_ROWS) {
      out.push({ x: 0, y, width: view.width, height: Math.min(TILE_ROWS, bottom - y) });
    }
  }
  return out;
}

function encodePng(canvas: Canvas): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    canvas.toBuffer((err, buf) => (err ? reject(err) : resolve(buf)), 'image/png', { compressionLevel: PNG_LEVEL });
  });
}

/** `rect` of `canvas` as 32-bit pixels (RGBA bytes as node-canvas reads them back), row-major. */
function pixels(canvas: Canvas, rect: TileRect): Uint32Array {
  const d = canvas.getContext('2d').getImageData(rect.x, rect.y, rect.width, rect.height).data;
  return new Uint32Array(d.buffer, d.byteOffset, d.byteLength / 4);
}

export class TileStream {
  readonly #send: TileSend;
  #on = false;
  #needWhole = true;
  /** Since a frame was not sent (or `on`), queued deltas lead nowhere: only a whole frame goes out. */
  #broken = true;
  #chain: Promise<void> = Promise.resolve();
  /** The app size of the last frame queued. */
  #view: AppViewport | null = null;
  /** The picture the viewer holds once every queued frame is drawn (32-bit pixels of the app area, row-major). */
  #held: Uint32Array | null = null;
  readonly counters: TileStreamCounters = { frames: 0, wholeFrames: 0, messages: 0, bytes: 0, dropped: 0 };

  constructor(send: TileSend) {
    this.#send = send;
  }

  get on(): boolean {
    return this.#on;
  }

  /** `on`: a viewer opened the channel (again): the next frame goes whole. Off: nothing is sent. */
  setOn(on: boolean): void {
    this.#on = on;
    if (!on) {
      this.#held = null; // the next `on` starts whole anyway
      return;
    }
    this.#needWhole = true;
    this.#broken = true;
  }

  /**
   * A frame sent: `bands` are the app-area rows it changed (null: all; empty: none, a restamp or a keepalive,
   * sent as a header alone), `canvas` holds its picture.
   */
  frame(canvas: Canvas, view: AppViewport, seq: number, bands: readonly RowBand[] | null): void {
    if (!this.#on) return;
    const sameSize = this.#view?.width === view.width && this.#view.height === view.height;
    const whole = this.#needWhole || bands === null || !sameSize || !this.#held;
    this.#needWhole = false;
    this.#view = { width: view.width, height: view.height };
    const rects = whole ? this.#holdWhole(canvas, view) : this.#narrow(canvas, view, bands);
    // Cut now: the next render paints over the canvas.
    const cuts = rects.map((r) => {
      const c = createCanvas(r.width, r.height);
      c.getContext('2d').drawImage(canvas, r.x, r.y, r.width, r.height, 0, 0, r.width, r.height);
      return { rect: r, canvas: c };
    });
    const encoded = Promise.all(
      cuts.map(async (c): Promise<Tile> => ({ ...c.rect, payload: await encodePng(c.canvas) })),
    );
    this.#queue(async () => {
      const tiles = await encoded;
      return packTileFrame({ seq, width: view.width, height: view.height, whole }, tiles);
    }, whole);
  }

  /** A whole frame's tiles; the held picture becomes the canvas's. */
  #holdWhole(canvas: Canvas, view: AppViewport): TileRect[] {
    this.#held = pixels(canvas, { x: 0, y: 0, width: view.width, height: view.height });
    return tileRects(null, view);
  }

  /** A delta's tiles: its bands' changed parts against the held picture (which takes them). */
  #narrow(canvas: Canvas, view: AppViewport, bands: readonly RowBand[]): TileRect[] {
    const held = this.#held;
    if (!held) return tileRects(bands, view);
    return tileRects(bands, view).flatMap((r) => changedRects(held, view.width, pixels(canvas, r), r));
  }

  /** The last frame's picture again at `seq` (a keepalive): its header alone; nothing before a frame. */
  repeat(seq: number): void {
    const view = this.#view;
    if (!this.#on || this.#needWhole || !view) return;
    this.#queue(() => Promise.resolve(packTileFrame({ seq, ...view, whole: false }, [])), false);
  }

  #queue(messages: () => Promise<Uint8Array[]>, whole: boolean): void {
    const next = this.#chain.then(async () => {
      let out: Uint8Array[];
      try {
        out = await messages();
      } catch (err) {
        log.warn({ err }, 'tile frame not encoded; the next goes whole');
        this.#dropped();
        return;
      }
      if (!this.#on) return;
      if (this.#broken && !whole) return; // a delta over a picture the viewer does not hold
      for (const m of out) {
        if (!this.#send(m)) {
          this.#dropped();
          return;
        }
        this.counters.messages++;
        this.counters.bytes += m.byteLength;
      }
      this.counters.frames++;
      if (whole) {
        this.counters.wholeFrames++;
        this.#broken = false;
      }
    });
    this.#chain = next;
  }

  #dropped(): void {
    this.counters.dropped++;
    this.#needWhole = true;
    this.#broken = true;
  }
}
