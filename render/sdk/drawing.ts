// The drawing surface an app renders into: a subset of the HTML canvas 2D
// context. Text is drawn only with fonts from `loadFont` (never system fonts),
// and there is no `measureText`: widths come from the font's own metrics, so
// layout is the same on every host.

export type CanvasFillRule = 'nonzero' | 'evenodd';

export interface DrawingContext {
  fillStyle: string;
  strokeStyle: string;
  lineWidth: number;
  lineCap: 'butt' | 'round' | 'square';
  lineJoin: 'bevel' | 'round' | 'miter';
  globalAlpha: number;
  globalCompositeOperation: string;
  /** A CSS font shorthand from `Font.spec`. */
  font: string;
  textAlign: 'left' | 'right' | 'center' | 'start' | 'end';
  textBaseline: 'top' | 'hanging' | 'middle' | 'alphabetic' | 'ideographic' | 'bottom';

  save(): void;
  restore(): void;
  translate(x: number, y: number): void;
  scale(x: number, y: number): void;

  fillRect(x: number, y: number, w: number, h: number): void;
  strokeRect(x: number, y: number, w: number, h: number): void;
  clearRect(x: number, y: number, w: number, h: number): void;

  beginPath(): void;
  closePath(): void;
  moveTo(x: number, y: number): void;
  lineTo(x: number, y: number): void;
  rect(x: number, y: number, w: number, h: number): void;
  arc(x: number, y: number, radius: number, startAngle: number, endAngle: number, counterclockwise?: boolean): void;
  quadraticCurveTo(cpx: number, cpy: number, x: number, y: number): void;
  fill(fillRule?: CanvasFillRule): void;
  stroke(): void;
  clip(fillRule?: CanvasFillRule): void;

  fillText(text: string, x: number, y: number): void;

  /** Copies an offscreen surface from `createSurface` (whole, unscaled). */
  drawImage(surface: Surface, dx: number, dy: number): void;

  /** A block of width×height transparent pixels to fill and hand to `putImageData`. */
  createImageData(width: number, height: number): PixelData;
  /**
   * Raw pixels: replaces the pixels under `image` at whole-pixel (dx, dy) with its bytes, as the canvas's
   * putImageData does (the transform, clip, globalAlpha and composite operation do not apply; what falls
   * outside the target is dropped). Put pixels into an offscreen surface once and `drawImage` that surface
   * each frame: in the sandbox every call carries all its bytes to the host.
   */
  putImageData(image: PixelData, dx: number, dy: number): void;
}

/** Straight (not premultiplied) RGBA bytes, row by row, 4 × width × height of them. */
export interface PixelData {
  readonly width: number;
  readonly height: number;
  readonly data: Uint8ClampedArray;
}

/** An offscreen raster, for caches (pre-rasterized glyphs, a board's committed strokes). */
export interface Surface {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): DrawingContext;
}
