// Mouse/touch selection: click places the caret, drag extends, shift+click
// extends, double-click picks a word and triple-click a paragraph (dragging
// after either extends by whole words/paragraphs).
import type { PointerInput } from '../../sdk/index.js';
import { moveTo, paragraphRangeAt, wordRangeAt } from './document.js';
import { docOf, endDrag, withDoc, type WriterState } from './state.js';
import { clusterAtPoint, offsetAtPoint, scrollCaretIntoView, textAreaHeight } from './view.js';

const MAIN_BUTTON = 0;
const MAIN_BUTTON_MASK = 1;

function unitRangeAt(state: WriterState, x: number, y: number): [number, number] {
  const at = clusterAtPoint(state, x, y);
  const doc = docOf(state);
  return state.drag === 'paragraph' ? paragraphRangeAt(doc, at) : wordRangeAt(doc, at);
}

function select(state: WriterState, anchor: number, caret: number): WriterState {
  return withDoc(state, { text: state.text, anchor, caret });
}

function pointerDown(state: WriterState, ev: PointerInput): WriterState {
  if (ev.button !== MAIN_BUTTON || ev.y >= textAreaHeight(state)) return state;
  const clicks = ev.detail ?? 1;
  if (clicks >= 2) {
    state.drag = clicks === 2 ? 'word' : 'paragraph';
    const [from, to] = unitRangeAt(state, ev.x, ev.y);
    state.dragFrom = from;
    state.dragTo = to;
    return scrollCaretIntoView(select(state, from, to));
  }
  endDrag(state).drag = 'char';
  const offset = offsetAtPoint(state, ev.x, ev.y);
  return scrollCaretIntoView(withDoc(state, moveTo(docOf(state), offset, ev.mods.shift)));
}

function pointerMove(state: WriterState, ev: PointerInput): WriterState {
  if (state.drag === 'none') return state;
  if ((ev.buttons & MAIN_BUTTON_MASK) === 0) {
    // The release happened where we could not see it: stop dragging.
    return endDrag(state);
  }
  if (state.drag === 'char') {
    return scrollCaretIntoView(select(state, state.anchor, offsetAtPoint(state, ev.x, ev.y)));
  }
  const [from, to] = unitRangeAt(state, ev.x, ev.y);
  // Keep the originally picked unit selected and grow towards the pointer.
  if (from < state.dragFrom) return scrollCaretIntoView(select(state, state.dragTo, from));
  return scrollCaretIntoView(select(state, state.dragFrom, Math.max(to, state.dragTo)));
}

export function applyPointer(state: WriterState, ev: PointerInput): WriterState {
  switch (ev.action) {
    case 'down':
      return pointerDown(state, ev);
    case 'move':
      return pointerMove(state, ev);
    case 'up':
      return ev.button === MAIN_BUTTON ? endDrag(state) : state;
  }
}
