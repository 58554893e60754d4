// Draws the page: selection, text, caret (always visible: blinking would need
// a clock), a scroll indicator and the status bar. Every coordinate is a
// whole pixel derived from integer layout units. The text area comes from a
// per-state page cache (page-cache.ts): a frame redraws only the lines whose
// text or selection changed, and nothing here walks the whole document.
// Each frame also names its parts (lines, caret, scroll thumb, status bar) with
// what their pixels depend on, so the host reads back only the parts that
// changed since the frame its surface holds (sdk/damage.ts).
import { DamageTracker, type DrawingContext, type FrameInfo, type FramePart, type Rect } from '../../sdk/index.js';
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

const trackers = new WeakMap<WriterState, DamageTracker>();

function trackerOf(state: WriterState): DamageTracker {
  let tracker = trackers.get(state);
  if (!tracker) {
    tracker = new DamageTracker();
    trackers.set(state, tracker);
  }
  return tracker;
}

/** The scroll thumb's box, or null when the whole text fits. */
function scrollThumb(state: WriterState, layout: Layout): Rect | null {
  const view = textAreaHeight(state);
  const total = contentHeight(layout);
  const max = maxScroll(state, layout);
  if (max <= 0 || view <= 0) return null;
  const thumb = Math.max(20, Math.floor((view * view) / total));
  const y = Math.floor(((view - thumb) * state.scrollY) / max);
  return { x: state.width - SCROLL_THUMB_WIDTH_PX - 2, y, width: SCROLL_THUMB_WIDTH_PX, height: thumb };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

/** The status bar's two texts. */
function statusTexts(state: WriterState): { left: string; right: string } {
  const index = textIndexOf(state);
  const { line, column } = index.lineColumnAt(state.caret);
  const [from, to] = selectionRange(docOf(state));
  const selected = to > from ? `   (${plural(index.clusterCount(from, to), 'character')} selected)` : '';
  const left = `Ln ${line}, Col ${column}${selected}`;
  const counts = index.counts();
  const right = `${plural(counts.words, 'word')}   ${plural(counts.characters, 'character')}`;
  return { left, right };
}

function drawStatus(ctx: DrawingContext, state: WriterState, { left, right }: { left: string; right: string }): void {
  const top = state.height - STATUS_HEIGHT_PX;
  ctx.fillStyle = COLORS.statusBg;
  ctx.fillRect(0, top, state.width, STATUS_HEIGHT_PX);
  ctx.fillStyle = COLORS.statusBorder;
  ctx.fillRect(0, top, state.width, 1);
  const m = measurerFor(STATUS_FONT_PX);
  const textTop = top + 1;
  const lineH = STATUS_HEIGHT_PX - 1;
  drawRun(ctx, m, left, 0, left.length, 12, textTop, lineH, COLORS.statusText);
  const rightX = state.width - 12 - px(m.width(right));
  drawRun(ctx, m, right, 0, right.length, rightX, textTop, lineH, COLORS.statusText);
}

/** Draws the whole surface; with `frame`, answers the rectangles that changed since frame `frame.over`. */
export function renderWriter(state: WriterState, ctx: DrawingContext, frame?: FrameInfo): Rect[] | undefined {
  const layout = layoutOf(state);
  const view = textAreaHeight(state);
  // The page surface covers the text area and the status bar the rest.
  ctx.fillStyle = COLORS.page;
  if (view <= 0) ctx.fillRect(0, 0, state.width, state.height);

  const first = Math.max(0, Math.floor((state.scrollY - lineTop(0)) / LINE_HEIGHT_PX));
  const last = Math.min(layout.lineCount - 1, Math.floor((state.scrollY + view - lineTop(0)) / LINE_HEIGHT_PX));
  const [from, to] = selectionRange(docOf(state));
  const lines: PageLine[] = [];
  const parts: FramePart[] = [];
  for (let i = first; i <= last; i++) {
    const line = pageLine(layout, i, lineTop(i) - state.scrollY, from, to);
    lines.push(line);
    // A line's box on the page (the page cache clips it there); the page is white around the boxes.
    parts.push({
      id: `l${line.top}`,
      rect: { x: 0, y: line.top, width: state.width, height: LINE_HEIGHT_PX },
      key: line.key,
    });
  }
  if (view > 0) ctx.drawImage(pageOf(state, view).paint(state.scrollY, lines), 0, 0);

  const caretLine = lineIndexAt(layout, state.caret);
  const caretTop = lineTop(caretLine) - state.scrollY;
  if (caretTop + LINE_HEIGHT_PX > 0 && caretTop < view) {
    const x = MARGIN_X_PX + px(xAtOffset(layout, caretLine, state.caret, widthOf));
    const caret = { x: x - 1, y: caretTop + 2, width: CARET_WIDTH_PX, height: LINE_HEIGHT_PX - 4 };
    ctx.fillStyle = COLORS.caret;
    ctx.fillRect(caret.x, caret.y, caret.width, caret.height);
    parts.push({ id: 'caret', rect: caret, key: '' });
  }

  const thumb = scrollThumb(state, layout);
  if (thumb) {
    ctx.fillStyle = COLORS.scrollThumb;
    ctx.fillRect(thumb.x, thumb.y, thumb.width, thumb.height);
    parts.push({ id: 'thumb', rect: thumb, key: '' });
  }
  // Last, so half-visible lines and overhanging ink never cover it.
  const status = statusTexts(state);
  drawStatus(ctx, state, status);
  const statusBox = { x: 0, y: state.height - STATUS_HEIGHT_PX, width: state.width, height: STATUS_HEIGHT_PX };
  parts.push({ id: 'status', rect: statusBox, key: `${status.left}\u0000${status.right}` });
  // The page's own scroll position and size are in every line's box: a scroll moves them all.
  return trackerOf(state).frame(frame, parts);
}
