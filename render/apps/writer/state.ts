// The writer's whole state. Everything here is an integer, a string or an
// enum: nothing measured with floats, so snapshots are canonical.
import type { Doc } from './document.js';
import { TextIndex } from './text-index.js';

/** What a held main button is doing: extending by clusters, words or paragraphs. */
export type DragMode = 'none' | 'char' | 'word' | 'paragraph';

export interface WriterState {
  /** Viewport in CSS pixels (changes only through resize inputs). */
  width: number;
  height: number;
  text: string;
  /** UTF-16 offsets on cluster boundaries; see document.ts. */
  caret: number;
  anchor: number;
  /** Column (layout units) that Up/Down aim for; null until a vertical move starts. */
  goalX: number | null;
  /** Vertical scroll in whole pixels. */
  scrollY: number;
  drag: DragMode;
  /** The word/paragraph picked by the double/triple click that started a drag. */
  dragFrom: number;
  dragTo: number;
}

export function initialState(width: number, height: number): WriterState {
  return {
    width,
    height,
    text: '',
    caret: 0,
    anchor: 0,
    goalX: null,
    scrollY: 0,
    drag: 'none',
    dragFrom: 0,
    dragTo: 0,
  };
}

export function endDrag(state: WriterState): WriterState {
  state.drag = 'none';
  state.dragFrom = 0;
  state.dragTo = 0;
  return state;
}

/** The state's document, read through its text index (which reads only the paragraphs it is asked about). */
export function docOf(state: WriterState): Doc {
  return { text: state.text, caret: state.caret, anchor: state.anchor, source: textIndexOf(state) };
}

/**
 * Each state's text index (paragraphs, wraps, counts, digests), kept beside the state rather than in it: it is
 * derived from the text alone, so it is never snapshotted, and a state without one (restored, new) builds it.
 */
const indexes = new WeakMap<WriterState, TextIndex>();

export function textIndexOf(state: WriterState): TextIndex {
  let index = indexes.get(state);
  if (index?.text !== state.text) {
    index = new TextIndex(state.text);
    indexes.set(state, index);
  }
  return index;
}

/** Writes a document back; any edit or horizontal move forgets the Up/Down goal column. */
export function withDoc(state: WriterState, doc: Doc, keepGoal = false): WriterState {
  // An edit always changed the text (and comparing two long strings would read both).
  if (doc.edit !== undefined || doc.text !== state.text) {
    // An edit ends any drag: its remembered word/paragraph offsets are stale now.
    endDrag(state);
    const index = indexes.get(state);
    // The same string object: the index describes exactly the text the edit was made on.
    if (index && doc.edit && index.text === state.text) index.edit(doc.text, doc.edit);
    else indexes.delete(state);
  }
  state.text = doc.text;
  state.caret = doc.caret;
  state.anchor = doc.anchor;
  if (!keepGoal) state.goalX = null;
  return state;
}
