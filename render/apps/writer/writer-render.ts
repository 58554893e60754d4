// Draws the page: selection, text, caret (always visible: blinking would need
// a clock), a scroll indicator and the status bar. Every coordinate is a
// whole pixel derived from integer layout units. The text area comes from a
// per-state page cache (page-cache.ts): a frame redraws only the lines whose
// text or selection changed, and nothing here walks the whole document.
import type { DrawingContext } from '../../sdk/index.js';
import { selectionRange } from './document.js';
import { lineIndexAt, lineText, xAtOffset, type Layout } from './layout.js';
import { measurerFor, UNITS_PER_PX } from './measure.js';
import { drawRun } from './glyph-cache.js';
import { PageCache, type PageLine } from './page-cache.js';
import { docOf, textIndexOf, type WriterState } from './state.js';
import {
  contentHeight,
  layoutOf,
  LINE_HEIGHT_PX,
  lineTop,
  MARGIN_X_PX,
  maxScroll,
  STATUS_FONT_PX,
  STATUS_HEIGHT_PX,
  textAreaHeight,
  textMeasurer,
  widthOf,
} from './view.js';

const COLORS = {
  page: '#ffffff',
  text: '#1f1f1f',
  selection: '#b4d5fe',
  caret: '#000000',
  scrollThumb: '#c4c4c4',
  statusBg: '#f2f2f2',
  statusBorder: '#d4d4d4',
  statusText: '#505050',
} as const;

/** Width shown for a selected line break, so selecting across paragraphs is visible. */
const NEWLINE_MARK_PX = 6;
const CARET_WIDTH_PX = 2;
const SCROLL_THUMB_WIDTH_PX = 6;

const px = (units: number): number => Math.round(units / UNITS_PER_PX);

/** The selected span of line `index` in whole pixels from the text's left edge, or null. */
function selectionSpan(layout: Layout, index: number, from: number, to: number): [number, number] | null {
  if (to <= from) return null;
  const line = layout.line(index);
  // A hard line's '\n' sits at line.end; a soft line's last cluster ends there.
  const coversBreak = line.hard && line.end < layout.length && from <= line.end && to > line.end;
  const a = Math.max(from, line.start);
  const b = Math.min(to, line.end);
  if (a > b || (a === b && !coversBreak)) return null;
  const left = px(xAtOffset(layout, index, a, widthOf));
  const right = px(xAtOffset(layout, index, b, widthOf)) + (coversBreak ? NEWLINE_MARK_PX : 0);
  return [left, right];
}

/** The visible line `index` as the page cache draws it: selection under the text. */
function pageLine(layout: Layout, index: number, top: number, from: number, to: number): PageLine {
  const span = selectionSpan(layout, index, from, to);
  const text = lineText(layout, index);
  return {
    top,
    key: `${span ? `${span[0]},${span[1]}` : '-'}\u0000${text}`,
    draw(ctx) {
      if (span) {
        ctx.fillStyle = COLORS.selection;
        ctx.fillRect(MARGIN_X_PX + span[0], top, span[1] - span[0], LINE_HEIGHT_PX);
      }
      drawRun(ctx, textMeasurer, text, 0, text.length, MARGIN_X_PX, top, LINE_HEIGHT_PX, COLORS.text);
    },
  };
}

const pages = new WeakMap<WriterState, PageCache>();

function pageOf(state: WriterState, view: number): PageCache {
  let page = pages.get(state);
  if (page?.width !== state.width || page.height !== Math.max(1, view)) {
    page = new PageCache(state.width, view, LINE_HEIGHT_PX, COLORS.page);
    pages.set(state, page);
  }
  return page;
}

function drawScrollThumb(ctx: DrawingContext, state: WriterState, layout: Layout): void {
  const view = textAreaHeight(state);
  const total = contentHeight(layout);
  const max = maxScroll(state, layout);
  if (max <= 0 || view <= 0) return;
  const thumb = Math.max(20, Math.floor((view * view) / total));
  const y = Math.floor(((view - thumb) * state.scrollY) / max);
  ctx.fillStyle = COLORS.scrollThumb;
  ctx.fillRect(state.width - SCROLL_THUMB_WIDTH_PX - 2, y, SCROLL_THUMB_WIDTH_PX, thumb);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function drawStatus(ctx: DrawingContext, state: WriterState): void {
  const top = state.height - STATUS_HEIGHT_PX;
  ctx.fillStyle = COLORS.statusBg;
  ctx.fillRect(0, top, state.width, STATUS_HEIGHT_PX);
  ctx.fillStyle = COLORS.statusBorder;
  ctx.fillRect(0, top, state.width, 1);
  const m = measurerFor(STATUS_FONT_PX);
  const index = textIndexOf(state);
  const { line, column } = index.lineColumnAt(state.caret);
  const [from, to] = selectionRange(docOf(state));
  const selected = to > from ? `   (${plural(index.clusterCount(from, to), 'character')} selected)` : '';
  const left = `Ln ${line}, Col ${column}${selected}`;
  const counts = index.counts();
  const right = `${plural(counts.words, 'word')}   ${plural(counts.characters, 'character')}`;
  const textTop = top + 1;
  const lineH = STATUS_HEIGHT_PX - 1;
  drawRun(ctx, m, left, 0, left.length, 12, textTop, lineH, COLORS.statusText);
  const rightX = state.width - 12 - px(m.width(right));
  drawRun(ctx, m, right, 0, right.length, rightX, textTop, lineH, COLORS.statusText);
}

export function renderWriter(state: WriterState, ctx: DrawingContext): void {
  const layout = layoutOf(state);
  const view = textAreaHeight(state);
  // The page surface covers the text area and the status bar the rest.
  ctx.fillStyle = COLORS.page;
  if (view <= 0) ctx.fillRect(0, 0, state.width, state.height);

  const first = Math.max(0, Math.floor((state.scrollY - lineTop(0)) / LINE_HEIGHT_PX));
  const last = Math.min(layout.lineCount - 1, Math.floor((state.scrollY + view - lineTop(0)) / LINE_HEIGHT_PX));
  const [from, to] = selectionRange(docOf(state));
  const lines: PageLine[] = [];
  for (let i = first; i <= last; i++) lines.push(pageLine(layout, i, lineTop(i) - state.scrollY, from, to));
  if (view > 0) ctx.drawImage(pageOf(state, view).paint(state.scrollY, lines), 0, 0);

  const caretLine = lineIndexAt(layout, state.caret);
  const caretTop = lineTop(caretLine) - state.scrollY;
  if (caretTop + LINE_HEIGHT_PX > 0 && caretTop < view) {
    const x = MARGIN_X_PX + px(xAtOffset(layout, caretLine, state.caret, widthOf));
    ctx.fillStyle = COLORS.caret;
    ctx.fillRect(x - 1, caretTop + 2, CARET_WIDTH_PX, LINE_HEIGHT_PX - 4);
  }

  drawScrollThumb(ctx, state, layout);
  // Last, so half-visible lines and overhanging ink never cover it.
  drawStatus(ctx, state);
}
