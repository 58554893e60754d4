// The text area's pixels, kept between frames: each visible line is drawn in
// its own box (clipped to it) and redrawn only when what it shows changed, so
// a key press redraws one line however long the document is. A line's pixels
// depend only on its key (its text and its selection span), and every pixel
// outside the recorded boxes is page white, so the surface always equals one
// drawn from scratch for the same lines: a cold cache (a restored replica) and
// a warm one give the same frame. A scroll moves the pixels already there and
// draws only the lines it brings into view.
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
  #surface: Surface;
  #ctx: DrawingContext;
  /** A second surface a scroll copies the page into (then the two swap). */
  #spare: Surface | null = null;
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

  /**
   * Moves the page up by `dy` pixels (down when negative): an opaque copy at a whole-pixel offset gives the
   * same pixels, so lines still wholly on the page keep their boxes; every other box is cleared to page white.
   */
  #shift(dy: number): void {
    const { width, height } = this.#surface;
    this.#spare ??= createSurface(width, height);
    const ctx = this.#spare.getContext('2d');
    ctx.fillStyle = this.#background;
    ctx.fillRect(0, 0, width, height);
    ctx.drawImage(this.#surface, 0, -dy);
    [this.#surface, this.#spare] = [this.#spare, this.#surface];
    this.#ctx = ctx;
    const h = this.#lineHeight;
    const inside = (top: number): boolean => top >= 0 && top + h <= height;
    const moved = [...this.#drawn];
    this.#drawn.clear();
    for (const [top, key] of moved) {
      if (inside(top) && inside(top - dy)) this.#drawn.set(top - dy, key);
      else this.#clear(top - dy, h);
    }
  }

  /** Brings the surface up to `lines` (the visible ones at `scrollY`) and returns it. */
  paint(scrollY: number, lines: readonly PageLine[]): Surface {
    if (scrollY !== this.#scrollY) {
      const dy = this.#scrollY === null ? Infinity : scrollY - this.#scrollY;
      if (Math.abs(dy) < this.#surface.height) this.#shift(dy);
      else {
        // Nothing stays on the page: start over from a blank one.
        this.#clear(0, this.#surface.height);
        this.#drawn.clear();
      }
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
