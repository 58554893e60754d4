// Key presses: editing commands, caret motion and typed text.
import { typedText, type KeyInput } from '../../sdk/index.js';
import {
  deleteBackward,
  deleteForward,
  deleteWordBackward,
  deleteWordForward,
  insertText,
  moveLeft,
  moveRight,
  moveTo,
  selectAll,
  TAB_TEXT,
  wordLeft,
  wordRight,
  type Doc,
} from './document.js';
import { lineCaretEnd, lineIndexAt, offsetAtX, xAtOffset } from './layout.js';
import { docOf, withDoc, type WriterState } from './state.js';
import { layoutOf, LINE_HEIGHT_PX, scrollCaretIntoView, textAreaHeight, widthOf } from './view.js';

/** Up/Down by `lines` visual lines, aiming at the remembered goal column. */
function moveVertical(state: WriterState, lines: number, extend: boolean): WriterState {
  const layout = layoutOf(state);
  const index = lineIndexAt(layout, state.caret);
  const goal = state.goalX ?? xAtOffset(layout, index, state.caret, widthOf);
  const target = index + lines;
  let offset: number;
  if (target < 0) offset = 0;
  else if (target >= layout.lineCount) offset = state.text.length;
  else offset = offsetAtX(layout, target, goal, widthOf);
  withDoc(state, moveTo(docOf(state), offset, extend));
  state.goalX = goal;
  return state;
}

function lineStart(state: WriterState): number {
  const layout = layoutOf(state);
  return layout.line(lineIndexAt(layout, state.caret)).start;
}

function lineEnd(state: WriterState): number {
  const layout = layoutOf(state);
  return lineCaretEnd(layout, lineIndexAt(layout, state.caret));
}

function pageLines(state: WriterState): number {
  return Math.max(1, Math.floor(textAreaHeight(state) / LINE_HEIGHT_PX) - 1);
}

/** Named keys; returns null when `ev.key` is not one the writer handles by name. */
function namedKey(state: WriterState, ev: KeyInput): WriterState | null {
  const { shift, ctrl, alt, meta } = ev.mods;
  const doc = docOf(state);
  const edit = (next: Doc): WriterState => withDoc(state, next);
  const to = (offset: number): WriterState => edit(moveTo(doc, offset, shift));
  switch (ev.key) {
    case 'ArrowLeft':
      // Cmd+Left is Home on macOS; Ctrl (or Option) jumps by words.
      if (meta && !ctrl) return to(lineStart(state));
      if (ctrl || alt) return to(wordLeft(doc, doc.caret));
      return edit(moveLeft(doc, shift));
    case 'ArrowRight':
      if (meta && !ctrl) return to(lineEnd(state));
      if (ctrl || alt) return to(wordRight(doc, doc.caret));
      return edit(moveRight(doc, shift));
    case 'ArrowUp':
      return meta ? to(0) : moveVertical(state, -1, shift);
    case 'ArrowDown':
      return meta ? to(doc.text.length) : moveVertical(state, 1, shift);
    case 'PageUp':
      return moveVertical(state, -pageLines(state), shift);
    case 'PageDown':
      return moveVertical(state, pageLines(state), shift);
    case 'Home':
      return to(ctrl || meta ? 0 : lineStart(state));
    case 'End':
      return to(ctrl || meta ? doc.text.length : lineEnd(state));
    case 'Backspace':
      return edit(ctrl || alt ? deleteWordBackward(doc) : deleteBackward(doc));
    case 'Delete':
      return edit(ctrl || alt ? deleteWordForward(doc) : deleteForward(doc));
    case 'Enter':
      return ctrl || meta ? state : edit(insertText(doc, '\n'));
    case 'Tab':
      return ctrl || meta || alt || shift ? state : edit(insertText(doc, TAB_TEXT));
    default:
      return null;
  }
}

export function applyKey(state: WriterState, ev: KeyInput): WriterState {
  if (ev.action !== 'down') return state;
  const named = namedKey(state, ev);
  if (named) return scrollCaretIntoView(named);
  const { ctrl, alt, meta } = ev.mods;
  // AltGr arrives as Ctrl+Alt on Windows and types characters ("@" on a German layout).
  const altGr = ctrl && alt && !meta;
  if ((ctrl || meta) && !altGr) {
    if (ev.key.toLowerCase() === 'a') return selectAllOf(state);
    return state; // other shortcuts are commands the writer does not have
  }
  const text = typedText(ev);
  if (text === '') return state;
  return scrollCaretIntoView(withDoc(state, insertText(docOf(state), text)));
}

function selectAllOf(state: WriterState): WriterState {
  return scrollCaretIntoView(withDoc(state, selectAll(docOf(state))));
}
