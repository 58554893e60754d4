// Word wrap and caret geometry. Pure functions of the text, the wrap width and
// an integer width function: no canvas, no floats, so every replica breaks
// lines at the same offsets.
import { isBreakingSpace, isWide, nextBoundary, prevBoundary } from './clusters.js';

/** Width of one cluster in integer layout units. */
export type WidthFn = (cluster: string) => number;

export interface VisualLine {
  /** UTF-16 offset of the first cluster on the line. */
  readonly start: number;
  /** Offset just past the line's last cluster (a hard line stops before its '\n'). */
  readonly end: number;
  /** True when the line ends a paragraph ('\n' or end of text), false for a soft wrap. */
  readonly hard: boolean;
}

/** The paragraph holding an offset: where it starts and its text (without its line feed). */
export interface ParagraphText {
  readonly start: number;
  readonly text: string;
}

/**
 * A text's visual lines at one wrap width (see text-index.ts, which makes them). It hands out paragraphs, not
 * the whole text: a line never crosses a line feed, and reading the whole string would copy it (text-index.ts).
 */
export interface Layout {
  /** The text's length in UTF-16 units. */
  readonly length: number;
  readonly wrapWidth: number;
  readonly lineCount: number;
  /** Visual line `index` (0-based; throws RangeError outside [0, lineCount)). */
  line(index: number): VisualLine;
  /** The visual line holding the caret at `offset` (a soft-wrap offset belongs to the next line). */
  lineIndexAt(offset: number): number;
  /** The paragraph holding `offset` (a line feed belongs to the paragraph it ends). */
  paragraphAt(offset: number): ParagraphText;
}

/** Hyphens and dashes: a line may break after them. */
function isBreakAfter(cp: number): boolean {
  return cp === 0x2d || cp === 0x2010 || cp === 0x2013 || cp === 0x2014;
}

/**
 * Greedy wrap of one paragraph (no '\n'). Returns the start offset of every
 * visual line, relative to the paragraph; the first is always 0. Lines break
 * after whitespace runs (which may hang past the edge), after hyphens and
 * around wide (CJK) characters; a word longer than the line is broken between clusters.
 */
export function wrapParagraph(para: string, wrapWidth: number, widthOf: WidthFn): number[] {
  return wrapFrom(para, wrapWidth, widthOf, 0, () => false);
}

/**
 * The greedy wrap resumed at `from`, a line start: at a line start the wrap carries nothing but the text
 * after it (the line broke at its last opportunity), so wrapping from there gives the same later starts as
 * wrapping from 0. Returns the starts from `from` on; stops early, after pushing it, at the first start for
 * which `stop` is true (an edited paragraph stops where its old lines resume).
 */
export function wrapFrom(
  para: string,
  wrapWidth: number,
  widthOf: WidthFn,
  from: number,
  stop: (start: number) => boolean,
): number[] {
  const starts = [from];
  let start = from;
  let x = 0;
  let breakAt = -1;
  let xAtBreak = 0;
  let i = from;
  while (i < para.length) {
    const next = nextBoundary(para, i);
    const cluster = para.slice(i, next);
    const cp = cluster.codePointAt(0) ?? 0;
    const w = widthOf(cluster);
    if (isBreakingSpace(cp)) {
      x += w;
      i = next;
      breakAt = i;
      xAtBreak = x;
      continue;
    }
    const wide = isWide(cp);
    if (wide && i > start) {
      breakAt = i;
      xAtBreak = x;
    }
    if (x + w > wrapWidth && i > start) {
      if (breakAt > start) {
        start = breakAt;
        x -= xAtBreak;
      } else {
        start = i;
        x = 0;
      }
      starts.push(start);
      if (stop(start)) return starts;
      breakAt = -1;
      // Re-examine the same cluster: the carried-over word may still be too long.
      continue;
    }
    x += w;
    i = next;
    if (wide || isBreakAfter(cp)) {
      breakAt = i;
      xAtBreak = x;
    }
  }
  return starts;
}

/** Line `index` with its paragraph's text and its offsets relative to that paragraph. */
function lineAt(layout: Layout, index: number): VisualLine & { para: string; base: number } {
  const line = layout.line(index);
  const { start: base, text: para } = layout.paragraphAt(line.start);
  return { ...line, para, base };
}

/** The visual line holding the caret at `offset` (a soft-wrap offset belongs to the next line). */
export function lineIndexAt(layout: Layout, offset: number): number {
  return layout.lineIndexAt(offset);
}

/**
 * The last caret position on a line. On a soft-wrapped line the end offset
 * is where the next line starts, so the caret stops before the last cluster
 * (normally the space the line broke after).
 */
export function lineCaretEnd(layout: Layout, index: number): number {
  const line = lineAt(layout, index);
  if (line.hard) return line.end;
  return Math.max(line.start, line.base + prevBoundary(line.para, line.end - line.base));
}

/** The text of line `index` (without a line feed). */
export function lineText(layout: Layout, index: number): string {
  const line = lineAt(layout, index);
  return line.para.slice(line.start - line.base, line.end - line.base);
}

/** Caret x (layout units from the line's left edge) for `offset` on line `index`. */
export function xAtOffset(layout: Layout, index: number, offset: number, widthOf: WidthFn): number {
  const { para, base, start, end } = lineAt(layout, index);
  let x = 0;
  for (let i = start - base; i < Math.min(offset, end) - base;) {
    const n = nextBoundary(para, i);
    x += widthOf(para.slice(i, n));
    i = n;
  }
  return x;
}

/** The caret position on line `index` nearest to `x` (layout units). */
export function offsetAtX(layout: Layout, index: number, x: number, widthOf: WidthFn): number {
  const { para, base, start } = lineAt(layout, index);
  const last = lineCaretEnd(layout, index);
  let left = 0;
  for (let i = start - base; i < last - base;) {
    const n = nextBoundary(para, i);
    const w = widthOf(para.slice(i, n));
    if (x < left + w / 2) return base + i;
    left += w;
    i = n;
  }
  return last;
}

/** The start of the cluster under `x` on line `index` (for word selection). */
export function clusterAtX(layout: Layout, index: number, x: number, widthOf: WidthFn): number {
  const { para, base, start, end, hard } = lineAt(layout, index);
  let left = 0;
  for (let i = start - base; i < end - base;) {
    const n = nextBoundary(para, i);
    left += widthOf(para.slice(i, n));
    if (x < left) return base + i;
    i = n;
  }
  return hard ? end : base + prevBoundary(para, end - base);
}
