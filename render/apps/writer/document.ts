// The text model: a string, a caret and a selection anchor, all UTF-16
// offsets on cluster boundaries. Every operation is pure and layout-free.
import { classOf, nextBoundary, prevBoundary, snapToBoundary, type ClusterClass } from './clusters.js';
import type { TextEdit } from './text-index.js';

export interface Doc {
  readonly text: string;
  /** Where the caret is; the moving end of the selection. */
  readonly caret: number;
  /** The fixed end of the selection; equal to `caret` when nothing is selected. */
  readonly anchor: number;
  /** What changed in `text` to make this doc, when it was made by an edit (lets the text index update in place). */
  readonly edit?: TextEdit;
}

/** Hard cap on document size so no input log can exhaust replica memory. */
export const MAX_TEXT_LENGTH = 1_000_000;

export const TAB_TEXT = '    ';

/**
 * What may live in a document: line feeds as the only line separator, tabs
 * expanded to spaces, no other control characters, no lone surrogates.
 */
export function sanitizeText(raw: string): string {
  let out = '';
  const text = raw.replace(/\r\n?/g, '\n');
  for (let i = 0; i < text.length; i++) {
    const unit = text.charCodeAt(i);
    if (unit >= 0xd800 && unit <= 0xdbff) {
      const low = text.charCodeAt(i + 1);
      if (low >= 0xdc00 && low <= 0xdfff) {
        out += text.slice(i, i + 2);
        i++;
      } else out += '\ufffd';
    } else if (unit >= 0xdc00 && unit <= 0xdfff) out += '\ufffd';
    else if (unit === 0x09) out += TAB_TEXT;
    else if (unit === 0x0a) out += '\n';
    else if (unit < 0x20 || (unit >= 0x7f && unit <= 0x9f)) continue;
    else out += text[i];
  }
  return out;
}

export function selectionRange(doc: Doc): [number, number] {
  return doc.caret < doc.anchor ? [doc.caret, doc.anchor] : [doc.anchor, doc.caret];
}

export function hasSelection(doc: Doc): boolean {
  return doc.caret !== doc.anchor;
}

export function selectedText(doc: Doc): string | null {
  if (!hasSelection(doc)) return null;
  const [from, to] = selectionRange(doc);
  return doc.text.slice(from, to);
}

/** Replaces [from, to) with `insert` (already sanitized); the caret lands after it. */
function replaceRange(doc: Doc, from: number, to: number, insert: string): Doc {
  const room = MAX_TEXT_LENGTH - (doc.text.length - (to - from));
  let piece = insert;
  if (piece.length > room) {
    // Cut at a code point boundary so no lone surrogate enters the text.
    let cut = Math.max(0, room);
    const unit = piece.charCodeAt(cut - 1);
    if (cut > 0 && unit >= 0xd800 && unit <= 0xdbff) cut--;
    piece = piece.slice(0, cut);
  }
  const text = doc.text.slice(0, from) + piece + doc.text.slice(to);
  // Inserted combining marks may merge with neighbours: land on a real boundary.
  const caret = snapToBoundary(text, from + piece.length);
  return { text, caret, anchor: caret, edit: { from, removed: to - from, inserted: piece.length } };
}

/** Types or pastes `raw`, replacing the selection. */
export function insertText(doc: Doc, raw: string): Doc {
  const clean = sanitizeText(raw);
  // Nothing typeable (a bare control character, an empty paste): keep the selection.
  if (clean === '') return doc;
  const [from, to] = selectionRange(doc);
  return replaceRange(doc, from, to, clean);
}

export function deleteSelection(doc: Doc): Doc {
  const [from, to] = selectionRange(doc);
  return replaceRange(doc, from, to, '');
}

export function deleteBackward(doc: Doc): Doc {
  if (hasSelection(doc)) return deleteSelection(doc);
  if (doc.caret === 0) return doc;
  return replaceRange(doc, prevBoundary(doc.text, doc.caret), doc.caret, '');
}

export function deleteForward(doc: Doc): Doc {
  if (hasSelection(doc)) return deleteSelection(doc);
  if (doc.caret >= doc.text.length) return doc;
  return replaceRange(doc, doc.caret, nextBoundary(doc.text, doc.caret), '');
}

export function deleteWordBackward(doc: Doc): Doc {
  if (hasSelection(doc)) return deleteSelection(doc);
  return replaceRange(doc, wordLeft(doc.text, doc.caret), doc.caret, '');
}

export function deleteWordForward(doc: Doc): Doc {
  if (hasSelection(doc)) return deleteSelection(doc);
  return replaceRange(doc, doc.caret, wordRight(doc.text, doc.caret), '');
}

/** Moves the caret; with `extend` the anchor stays put and the selection grows. */
export function moveTo(doc: Doc, offset: number, extend: boolean): Doc {
  const caret = Math.max(0, Math.min(offset, doc.text.length));
  return { text: doc.text, caret, anchor: extend ? doc.anchor : caret };
}

export function moveLeft(doc: Doc, extend: boolean): Doc {
  // Without shift, Left on a selection collapses it to its start.
  if (!extend && hasSelection(doc)) return moveTo(doc, selectionRange(doc)[0], false);
  return moveTo(doc, prevBoundary(doc.text, doc.caret), extend);
}

export function moveRight(doc: Doc, extend: boolean): Doc {
  if (!extend && hasSelection(doc)) return moveTo(doc, selectionRange(doc)[1], false);
  return moveTo(doc, nextBoundary(doc.text, doc.caret), extend);
}

export function selectAll(doc: Doc): Doc {
  return { text: doc.text, caret: doc.text.length, anchor: 0 };
}

function classBefore(text: string, offset: number): ClusterClass | null {
  if (offset <= 0) return null;
  return classOf(text.slice(prevBoundary(text, offset), offset));
}

function classAfter(text: string, offset: number): ClusterClass | null {
  if (offset >= text.length) return null;
  return classOf(text.slice(offset, nextBoundary(text, offset)));
}

/** Ctrl+Left: back over spaces, then over one run of the same class (a line break is a run of its own). */
export function wordLeft(text: string, offset: number): number {
  let i = offset;
  while (classBefore(text, i) === 'space') i = prevBoundary(text, i);
  const cls = classBefore(text, i);
  if (cls === null) return i;
  if (cls === 'newline') return prevBoundary(text, i);
  while (classBefore(text, i) === cls) i = prevBoundary(text, i);
  return i;
}

/** Ctrl+Right: over one run of the same class, then over the spaces that follow. */
export function wordRight(text: string, offset: number): number {
  let i = offset;
  const cls = classAfter(text, i);
  if (cls === null) return i;
  if (cls === 'newline') return nextBoundary(text, i);
  while (classAfter(text, i) === cls) i = nextBoundary(text, i);
  while (classAfter(text, i) === 'space') i = nextBoundary(text, i);
  return i;
}

/** The run of same-class clusters around the cluster starting at `offset` (double-click). */
export function wordRangeAt(text: string, offset: number): [number, number] {
  let cls = classAfter(text, offset);
  // Past the end of a paragraph: pick the word just before.
  if (cls === null || cls === 'newline') {
    cls = classBefore(text, offset);
    if (cls === null || cls === 'newline') return [offset, offset];
    let from = offset;
    while (classBefore(text, from) === cls) from = prevBoundary(text, from);
    return [from, offset];
  }
  if (cls === 'punct') return [offset, nextBoundary(text, offset)];
  let from = offset;
  let to = offset;
  while (classBefore(text, from) === cls) from = prevBoundary(text, from);
  while (classAfter(text, to) === cls) to = nextBoundary(text, to);
  return [from, to];
}

/** The paragraph around `offset`, without its line feed (triple-click). */
export function paragraphRangeAt(text: string, offset: number): [number, number] {
  const from = offset === 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1;
  const nl = text.indexOf('\n', offset);
  return [from, nl === -1 ? text.length : nl];
}
