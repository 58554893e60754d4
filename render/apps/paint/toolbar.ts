// The toolbar: fixed geometry shared by hit-testing and drawing, so what you
// click is exactly what was drawn. Items past the right edge are cut off.
import type { DrawingContext } from '../../sdk/index.js';
import { uiFont } from './font.js';
import { PALETTE, PEN_WIDTHS, inkColor, visibleStart, type PaintState } from './state.js';

export const TOOLBAR_HEIGHT = 40;

export type ToolbarAction =
  | { readonly kind: 'color'; readonly index: number }
  | { readonly kind: 'size'; readonly index: number }
  | { readonly kind: 'eraser' }
  | { readonly kind: 'undo' }
  | { readonly kind: 'redo' }
  | { readonly kind: 'clear' };

interface ToolbarItem {
  readonly x: number;
  readonly y: number;
  readonly w: number;
  readonly h: number;
  readonly action: ToolbarAction;
}

const BUTTON = 28;
const TOP = 6;
const STEP = 32;
const GAP = 12;
const LABEL_WIDTH = 60;
const LABEL_FONT_PX = 13;

function buildItems(): ToolbarItem[] {
  const items: ToolbarItem[] = [];
  let x = 8;
  for (let i = 0; i < PALETTE.length; i++, x += STEP)
    items.push({ x, y: TOP, w: BUTTON, h: BUTTON, action: { kind: 'color', index: i } });
  x += GAP;
  for (let i = 0; i < PEN_WIDTHS.length; i++, x += STEP)
    items.push({ x, y: TOP, w: BUTTON, h: BUTTON, action: { kind: 'size', index: i } });
  x += GAP;
  for (const kind of ['eraser', 'undo', 'redo', 'clear'] as const) {
    items.push({ x, y: TOP, w: LABEL_WIDTH, h: BUTTON, action: { kind } });
    x += LABEL_WIDTH + 4;
    if (kind === 'eraser') x += GAP;
  }
  return items;
}

export const TOOLBAR_ITEMS: readonly ToolbarItem[] = buildItems();

/** The item under (x, y), if any; only points inside the visible surface hit. */
export function toolbarHit(state: PaintState, x: number, y: number): ToolbarAction | null {
  if (x < 0 || x >= state.width || y < 0 || y >= TOOLBAR_HEIGHT) return null;
  for (const item of TOOLBAR_ITEMS) {
    if (x >= item.x && x < item.x + item.w && y >= item.y && y < item.y + item.h) return item.action;
  }
  return null;
}

const COLORS = {
  bar: '#f2f2f2',
  border: '#d4d4d4',
  button: '#ffffff',
  selected: '#d0e2ff',
  ring: '#1e1e1e',
  label: '#303030',
  disabled: '#a8a8a8',
} as const;

function enabled(state: PaintState, action: ToolbarAction): boolean {
  switch (action.kind) {
    case 'undo':
      return state.applied > 0 || state.drawing !== null;
    case 'redo':
      return state.applied < state.items.length;
    case 'clear':
      return state.drawing !== null || visibleStart(state) < state.applied;
    default:
      return true;
  }
}

function selected(state: PaintState, action: ToolbarAction): boolean {
  switch (action.kind) {
    case 'color':
      return state.tool === 'pen' && state.color === action.index;
    case 'size':
      return state.size === action.index;
    case 'eraser':
      return state.tool === 'eraser';
    default:
      return false;
  }
}

const LABELS = { eraser: 'Eraser', undo: 'Undo', redo: 'Redo', clear: 'Clear' } as const;

function drawItem(ctx: DrawingContext, state: PaintState, item: ToolbarItem): void {
  const { x, y, w, h, action } = item;
  const isSelected = selected(state, action);
  if (action.kind === 'color') {
    if (isSelected) {
      ctx.fillStyle = COLORS.ring;
      ctx.fillRect(x - 3, y - 3, w + 6, h + 6);
      ctx.fillStyle = COLORS.bar;
      ctx.fillRect(x - 1, y - 1, w + 2, h + 2);
    }
    ctx.fillStyle = inkColor(action.index);
    ctx.fillRect(x, y, w, h);
    return;
  }
  ctx.fillStyle = COLORS.border;
  ctx.fillRect(x, y, w, h);
  ctx.fillStyle = isSelected ? COLORS.selected : COLORS.button;
  ctx.fillRect(x + 1, y + 1, w - 2, h - 2);
  if (action.kind === 'size') {
    const r = (PEN_WIDTHS[action.index] ?? 2) / 2;
    ctx.fillStyle = state.tool === 'eraser' ? COLORS.label : inkColor(state.color);
    ctx.beginPath();
    ctx.arc(x + w / 2, y + h / 2, r, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.fillStyle = enabled(state, action) ? COLORS.label : COLORS.disabled;
  ctx.fillText(LABELS[action.kind], x + w / 2, y + 19);
}

export function drawToolbar(ctx: DrawingContext, state: PaintState): void {
  ctx.fillStyle = COLORS.bar;
  ctx.fillRect(0, 0, state.width, TOOLBAR_HEIGHT);
  ctx.fillStyle = COLORS.border;
  ctx.fillRect(0, TOOLBAR_HEIGHT - 1, state.width, 1);
  ctx.font = uiFont().spec(LABEL_FONT_PX);
  ctx.textAlign = 'center';
  ctx.textBaseline = 'alphabetic';
  for (const item of TOOLBAR_ITEMS) {
    if (item.x >= state.width) break;
    drawItem(ctx, state, item);
  }
}
