// The text area's pixels, kept between frames: each visible line is drawn in
// its own box (clipped to it) and redrawn only when what it shows changed, so
// a key press redraws one line however long the document is. A line's pixels
// depend only on its key (its text and its selection span), and every pixel
// outside the recorded boxes is page white, so the surface always equals one
// drawn from scratch for the same lines: a cold cache (a restored replica) and
// a warm one give the same frame.
import { createSurface, type DrawingContext, type Surface } from '../../sdk/index.js';

export interface PageLine {
  /** Top of the line's box on the surface, in whole pixels. */
  readonly top: number;
  /** Everything the line's pixels depend on. */
  readonly key: string;
  /** Draws the line; anything outside its box is clipped away. */
  draw(ctx: DrawingContext): void;
}

export class PageCache {
  readonly #surface: Surface;
  readonly #ctx: DrawingContext;
  readonly #background: string;
  readonly #lineHeight: number;
  #scrollY: number | null = null;
  /** Box top → key of the line drawn there. */
  readonly #drawn = new Map<number, string>();

  constructor(width: number, height: number, lineHeight: number, background: string) {
    this.#surface = createSurface(width, height);
    this.#ctx = this.#surface.getContext('2d');
    this.#lineHeight = lineHeight;
    this.#background = background;
  }

  get width(): number {
    return this.#surface.width;
  }

  get height(): number {
    return this.#surface.height;
  }

  #clear(top: number, height: number): void {
    this.#ctx.fillStyle = this.#background;
    this.#ctx.fillRect(0, top, this.#surface.width, height);
  }

  /** Brings the surface up to `lines` (the visible ones at `scrollY`) and returns it. */
  paint(scrollY: number, lines: readonly PageLine[]): Surface {
    if (scrollY !== this.#scrollY) {
      // Every box moved: start over from a blank page.
      this.#clear(0, this.#surface.height);
      this.#drawn.clear();
      this.#scrollY = scrollY;
    }
    const ctx = this.#ctx;
    const h = this.#lineHeight;
    const stale = new Set(this.#drawn.keys());
    for (const line of lines) {
      stale.delete(line.top);
      if (this.#drawn.get(line.top) === line.key) continue;
      ctx.save();
      ctx.beginPath();
      ctx.rect(0, line.top, this.#surface.width, h);
      ctx.clip();
      this.#clear(line.top, h);
      line.draw(ctx);
      ctx.restore();
      this.#drawn.set(line.top, line.key);
    }
    for (const top of stale) {
      this.#clear(top, h);
      this.#drawn.delete(top);
    }
    return this.#surface;
  }
}
