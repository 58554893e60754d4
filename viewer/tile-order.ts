// The tile display's stream rules on the viewer (docs/tile-display.md), pure:
// which decoded messages (protocol/tile-frame.ts) of one display channel are
// drawn, and when the picture shows a seq. Tiles are deltas, so nothing is
// drawn before a whole frame starts (a channel joins a stream mid-way); a
// whole frame must cover the app area in full-width bands from the top, in
// order, so once its last part is drawn the picture depends on nothing
// earlier; a frame's parts come in order with one header; seqs never go back;
// a delta is of the size the picture has. Anything else is a TileOrderError:
// the channel is given up (the caller falls back to video), never drawn from.
import type { TileHeader, TileRect } from '../protocol/tile-frame.js';

export class TileOrderError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TileOrderError';
  }
}

export interface TileVerdict {
  /** Draw this message's tiles (false: a delta before the first whole frame, skipped). */
  draw: boolean;
  /** Once drawn, the picture shows this seq (the frame's last part); null: more parts to come, or skipped. */
  shows: number | null;
}

interface OpenFrame {
  header: TileHeader;
  next: number;
  /** A whole frame: the row its next band starts at. */
  row: number;
  draw: boolean;
}

export class TileOrder {
  #synced = false;
  #size: { width: number; height: number } | null = null;
  #lastSeq = -1;
  #open: OpenFrame | null = null;

  /** A whole frame was drawn in full: the picture is the stream's (and stays so, delta by delta). */
  get synced(): boolean {
    return this.#synced;
  }

  /** The app size of the picture (of the whole frame drawn or being drawn); null before one. */
  get size(): { width: number; height: number } | null {
    return this.#size;
  }

  /** The seq the picture shows; null before a whole frame is drawn. */
  get shownSeq(): number | null {
    return this.#synced ? this.#lastSeq : null;
  }

  /** Checks one message's header and tile rectangles (already inside its app area: the decoder's check). */
  accept(h: TileHeader, rects: readonly TileRect[]): TileVerdict {
    const open = this.#open ?? this.#start(h);
    const head = open.header;
    if (h.part !== open.next || h.seq !== head.seq || h.whole !== head.whole || h.parts !== head.parts)
      throw new TileOrderError(
        `part ${h.part}/${h.parts} of seq ${h.seq} where part ${open.next} of ${head.seq} was due`,
      );
    if (h.width !== head.width || h.height !== head.height)
      throw new TileOrderError(`a part of ${h.width}x${h.height} in a ${head.width}x${head.height} frame`);
    if (h.whole) {
      for (const r of rects) {
        if (r.x !== 0 || r.width !== h.width || r.y !== open.row)
          throw new TileOrderError(`whole frame tile ${r.width}x${r.height} at ${r.x},${r.y}: bands from the top due`);
        open.row += r.height;
      }
    }
    open.next++;
    if (open.next < h.parts) return { draw: open.draw, shows: null };
    this.#open = null;
    if (h.whole && open.row !== h.height)
      throw new TileOrderError(`whole frame of ${h.height} rows ends at row ${open.row}`);
    this.#lastSeq = h.seq;
    if (h.whole) this.#synced = true;
    return { draw: open.draw, shows: open.draw ? h.seq : null };
  }

  #start(h: TileHeader): OpenFrame {
    if (h.part !== 0) throw new TileOrderError(`part ${h.part} of seq ${h.seq} before its first`);
    if (h.seq < this.#lastSeq) throw new TileOrderError(`seq ${h.seq} after ${this.#lastSeq}`);
    let draw = true;
    if (h.whole) this.#size = { width: h.width, height: h.height };
    else if (!this.#synced) draw = false;
    else if (h.width !== this.#size?.width || h.height !== this.#size.height)
      throw new TileOrderError(
        `a ${h.width}x${h.height} delta over a ${this.#size?.width}x${this.#size?.height} picture`,
      );
    const open = { header: h, next: 0, row: 0, draw };
    this.#open = open;
    return open;
  }
}
