// Fonts as the SDK offers them: a family the host registered from the app's
// manifest, a CSS spec for `ctx.font`, and the font file's own metrics, so an
// app lays text out from the same numbers on every host.

export interface FontMetrics {
  readonly unitsPerEm: number;
  /** Typographic ascender/descender in font units (descender is negative). */
  readonly ascender: number;
  readonly descender: number;
  /** Advance width in font units, or null when the font has no glyph for `codePoint`. */
  advanceOf(codePoint: number): number | null;
}

export interface Font {
  readonly family: string;
  /** A CSS font shorthand for this family at `sizePx`, for `DrawingContext.font`. */
  spec(sizePx: number): string;
  readonly metrics: FontMetrics;
}
