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
}

/** An offscreen raster, for caches (pre-rasterized glyphs, a board's committed strokes). */
export interface Surface {
  readonly width: number;
  readonly height: number;
  getContext(kind: '2d'): DrawingContext;
}
