// The status line: stroke count, tool, colour, and the point budget (or the
// warning that it is spent).
import type { DrawingContext } from '../../sdk/index.js';
import { uiFont } from './font.js';
import { MAX_POINTS, PALETTE, PEN_WIDTHS, visibleStrokes, type PaintState } from './state.js';

export const STATUS_HEIGHT = 24;
const FONT_PX = 13;

const COLORS = { bg: '#f2f2f2', border: '#d4d4d4', text: '#505050', warning: '#c92a2a' } as const;

export function statusText(state: PaintState): { left: string; right: string } {
  const strokes = visibleStrokes(state).length + (state.drawing ? 1 : 0);
  const tool = state.tool === 'eraser' ? 'Eraser' : `Pen, ${PALETTE[state.color]?.name ?? '?'}`;
  const left = `${strokes} stroke${strokes === 1 ? '' : 's'}   ${tool}   Size ${state.size + 1}/${PEN_WIDTHS.length}`;
  const right = state.full
    ? `Point limit reached (${MAX_POINTS}): Undo or Clear to draw more`
    : `${state.totalPoints} / ${MAX_POINTS} points`;
  return { left, right };
}

export function drawStatus(ctx: DrawingContext, state: PaintState): void {
  const top = state.height - STATUS_HEIGHT;
  ctx.fillStyle = COLORS.bg;
  ctx.fillRect(0, top, state.width, STATUS_HEIGHT);
  ctx.fillStyle = COLORS.border;
  ctx.fillRect(0, top, state.width, 1);
  const { left, right } = statusText(state);
  const baseline = top + 17;
  ctx.font = uiFont().spec(FONT_PX);
  ctx.textBaseline = 'alphabetic';
  ctx.fillStyle = COLORS.text;
  ctx.textAlign = 'left';
  ctx.fillText(left, 10, baseline);
  ctx.fillStyle = state.full ? COLORS.warning : COLORS.text;
  ctx.textAlign = 'right';
  ctx.fillText(right, state.width - 10, baseline);
}
