// The whiteboard's transition function: one sequenced input in, next state out.
import type { AppInput, KeyInput, PointerInput } from '../../sdk/index.js';
import { applyImport } from './background.js';
import { addPoint, beginStroke, clearBoard, commitStroke, redo, undo } from './history.js';
import { PALETTE, PEN_WIDTHS, type PaintState } from './state.js';
import { STATUS_HEIGHT } from './status.js';
import { TOOLBAR_HEIGHT, toolbarHit, type ToolbarAction } from './toolbar.js';

const MAIN_BUTTON = 0;
const MAIN_BUTTON_MASK = 1;

function pickColor(state: PaintState, index: number): PaintState {
  state.color = index;
  state.tool = 'pen';
  return state;
}

function runAction(state: PaintState, action: ToolbarAction): PaintState {
  switch (action.kind) {
    case 'color':
      return pickColor(state, action.index);
    case 'size':
      state.size = action.index;
      return state;
    case 'eraser':
      state.tool = state.tool === 'eraser' ? 'pen' : 'eraser';
      return state;
    case 'undo':
      return undo(state);
    case 'redo':
      return redo(state);
    case 'clear':
      return clearBoard(state);
  }
}

function pointerDown(state: PaintState, ev: PointerInput): PaintState {
  // A second press without a release we saw: the first stroke is done.
  commitStroke(state);
  if (ev.button !== MAIN_BUTTON) return state;
  if (ev.y < TOOLBAR_HEIGHT) {
    const action = toolbarHit(state, ev.x, ev.y);
    return action ? runAction(state, action) : state;
  }
  if (ev.y >= state.height - STATUS_HEIGHT || ev.x < 0 || ev.x >= state.width) return state;
  return beginStroke(state, ev.x, ev.y);
}

function applyPointer(state: PaintState, ev: PointerInput): PaintState {
  switch (ev.action) {
    case 'down':
      return pointerDown(state, ev);
    case 'move':
      // No main button held: the release happened where we could not see it.
      if ((ev.buttons & MAIN_BUTTON_MASK) === 0) return commitStroke(state);
      return addPoint(state, ev.x, ev.y);
    case 'up':
      if (ev.button !== MAIN_BUTTON) return state;
      return commitStroke(addPoint(state, ev.x, ev.y));
  }
}

function applyKey(state: PaintState, ev: KeyInput): PaintState {
  if (ev.action !== 'down') return state;
  // AltGr arrives as Ctrl+Alt and types characters such as '[': not a command.
  const command = (ev.mods.ctrl || ev.mods.meta) && !ev.mods.alt;
  const key = ev.key.length === 1 ? ev.key.toLowerCase() : ev.key;
  if (command) {
    if (key === 'z') return ev.mods.shift ? redo(state) : undo(state);
    if (key === 'y') return redo(state);
    return state;
  }
  if (key === 'Delete') return clearBoard(state);
  if (key === '[') {
    state.size = Math.max(0, state.size - 1);
    return state;
  }
  if (key === ']') {
    state.size = Math.min(PEN_WIDTHS.length - 1, state.size + 1);
    return state;
  }
  if (key === 'e') {
    state.tool = state.tool === 'eraser' ? 'pen' : 'eraser';
    return state;
  }
  const digit = /^[1-9]$/.test(key)
    ? Number(key)
    : /^Digit[1-9]$/.test(ev.code) && !ev.mods.alt
      ? Number(ev.code.slice(5))
      : 0;
  if (digit >= 1 && digit <= PALETTE.length) return pickColor(state, digit - 1);
  return state;
}

export function applyInput(state: PaintState, input: AppInput): PaintState {
  const ev = input.event;
  switch (ev.type) {
    case 'key':
      return applyKey(state, ev);
    case 'pointer':
      return applyPointer(state, ev);
    case 'resize':
      state.width = ev.width;
      state.height = ev.height;
      return state;
    case 'release-all':
      // Buttons are released: a stroke in progress ends where it is.
      return commitStroke(state);
    case 'import':
      return applyImport(state, ev);
    case 'wheel':
    case 'paste':
      return state;
  }
}
