// The writer's transition function: one sequenced input in, next state out.
import type { AppInput } from '../../sdk/index.js';
import { insertText } from './document.js';
import { applyKey } from './keyboard.js';
import { applyPointer } from './pointer.js';
import { docOf, withDoc, type WriterState } from './state.js';
import { clampScroll, scrollCaretIntoView } from './view.js';

export function applyInput(state: WriterState, input: AppInput): WriterState {
  const ev = input.event;
  switch (ev.type) {
    case 'key':
      return applyKey(state, ev);
    case 'pointer':
      return applyPointer(state, ev);
    case 'wheel':
      // Scrolling moves the view, never the caret.
      state.scrollY += ev.dy;
      return clampScroll(state);
    case 'paste':
      return scrollCaretIntoView(withDoc(state, insertText(docOf(state), ev.text)));
    case 'import':
      // A text file, part by part at the caret (a new session's caret ends after each part).
      if (ev.format !== 'txt' && ev.format !== 'md') return state;
      return scrollCaretIntoView(withDoc(state, insertText(docOf(state), ev.data)));
    case 'resize':
      state.width = ev.width;
      state.height = ev.height;
      return scrollCaretIntoView(state);
    case 'release-all':
      // No held keys to release; an unfinished drag ends on the next move without buttons.
      return state;
  }
}
