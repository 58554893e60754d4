// The text model: a string, a caret and a selection anchor, all UTF-16
// offsets on cluster boundaries. Every operation is pure and layout-free, and
// reads the text only around the offsets it works at, through a TextSource
// (the state's text index): no cluster, word or paragraph crosses more than one
// line feed, and reading the whole string would copy it (text-index.ts).
import { classOf, nextBoundary, prevBoundary, snapToBoundary, type ClusterClass } from './clusters.js';
import type { ParagraphText } from './layout.js';
import type { Splice, TextEdit } from './text-index.js';

/** Reads of a text that cost what they touch (text-index.ts; stringSource for a bare string). */
export interface TextSource {
  /** The paragraph holding `offset` (a line feed belongs to the paragraph it ends). */
  paragraphAround(offset: number): ParagraphText;
  /** The text with [from, to) replaced by `piece`, and the new text of the paragraphs the edit touched. */
  splice(from: number, to: number, piece: string): Splice;
}

/** A TextSource over a bare string (reads it). */
export function stringSource(text: string): TextSource {
  const startOf = (offset: number): number => (offset <= 0 ? 0 : text.lastIndexOf('\n', offset - 1) + 1);
  const endOf = (offset: number): number => {
    const nl = text.indexOf('\n', offset);
    return nl === -1 ? text.length : nl;
  };
  return {
    paragraphAround(offset) {
      const start = startOf(offset);
      return { start, text: text.slice(start, endOf(offset)) };
    },
    splice(from, to, piece) {
      const start = startOf(from);
      const local = text.slice(start, endOf(to));
      return {
        whole: text.slice(0, from) + piece + text.slice(to),
        start,
        text: local.slice(0, from - start) + piece + local.slice(to - start),
      };
    },
  };
}

export interface Doc {
  readonly text: string;
  /** Reads of `text` (the state's text index); a bare string is read directly when absent. */
  readonly source?: TextSource;
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

function sourceOf(doc: Doc): TextSource {
  return doc.source ?? stringSource(doc.text);
}

/** Start of the cluster before `i` (a line feed is a cluster of its own). */
function prevIn(doc: Doc, i: number): number {
  if (i <= 0) return 0;
  const p = sourceOf(doc).paragraphAround(i);
  return i === p.start ? i - 1 : p.start + prevBoundary(p.text, i - p.start);
}

/** End of the cluster starting at `i`. */
function nextIn(doc: Doc, i: number): number {
  if (i >= doc.text.length) return doc.text.length;
  const p = sourceOf(doc).paragraphAround(i);
  return i - p.start >= p.text.length ? i + 1 : p.start + nextBoundary(p.text, i - p.start);
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
  const { whole, start, text } = sourceOf(doc).splice(from, to, piece);
  // Inserted combining marks may merge with neighbours: land on a real boundary (one in the touched
  // paragraphs, which start and end on boundaries).
  const caret = start + snapToBoundary(text, from - start + piece.length);
  return { text: whole, caret, anchor: caret, edit: { from, removed: to - from, inserted: piece.length } };
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
  return replaceRange(doc, prevIn(doc, doc.caret), doc.caret, '');
}

export function deleteForward(doc: Doc): Doc {
  if (hasSelection(doc)) return deleteSelection(doc);
  if (doc.caret >= doc.text.length) return doc;
  return replaceRange(doc, doc.caret, nextIn(doc, doc.caret), '');
}

export function deleteWordBackward(doc: Doc): Doc {
  if (hasSelection(doc)) return deleteSelection(doc);
  return replaceRange(doc, wordLeft(doc, doc.caret), doc.caret, '');
}

export function deleteWordForward(doc: Doc): Doc {
  if (hasSelection(doc)) return deleteSelection(doc);
  return replaceRange(doc, doc.caret, wordRight(doc, doc.caret), '');
}

/** Moves the caret; with `extend` the anchor stays put and the selection grows. */
export function moveTo(doc: Doc, offset: number, extend: boolean): Doc {
  const caret = Math.max(0, Math.min(offset, doc.text.length));
  return { text: doc.text, caret, anchor: extend ? doc.anchor : caret };
}

export function moveLeft(doc: Doc, extend: boolean): Doc {
  // Without shift, Left on a selection collapses it to its start.
  if (!extend && hasSelection(doc)) return moveTo(doc, selectionRange(doc)[0], false);
  return moveTo(doc, prevIn(doc, doc.caret), extend);
}

export function moveRight(doc: Doc, extend: boolean): Doc {
  if (!extend && hasSelection(doc)) return moveTo(doc, selectionRange(doc)[1], false);
  return moveTo(doc, nextIn(doc, doc.caret), extend);
}

export function selectAll(doc: Doc): Doc {
  return { text: doc.text, caret: doc.text.length, anchor: 0 };
}

function classBefore(doc: Doc, offset: number): ClusterClass | null {
  if (offset <= 0) return null;
  const p = sourceOf(doc).paragraphAround(offset);
  if (offset === p.start) return 'newline';
  const rel = offset - p.start;
  return classOf(p.text.slice(prevBoundary(p.text, rel), rel));
}

function classAfter(doc: Doc, offset: number): ClusterClass | null {
  if (offset >= doc.text.length) return null;
  const p = sourceOf(doc).paragraphAround(offset);
  const rel = offset - p.start;
  if (rel >= p.text.length) return 'newline';
  return classOf(p.text.slice(rel, nextBoundary(p.text, rel)));
}

/** Ctrl+Left: back over spaces, then over one run of the same class (a line break is a run of its own). */
export function wordLeft(doc: Doc, offset: number): number {
  let i = offset;
  while (classBefore(doc, i) === 'space') i = prevIn(doc, i);
  const cls = classBefore(doc, i);
  if (cls === null) return i;
  if (cls === 'newline') return prevIn(doc, i);
  while (classBefore(doc, i) === cls) i = prevIn(doc, i);
  return i;
}

/** Ctrl+Right: over one run of the same class, then over the spaces that follow. */
export function wordRight(doc: Doc, offset: number): number {
  let i = offset;
  const cls = classAfter(doc, i);
  if (cls === null) return i;
  if (cls === 'newline') return nextIn(doc, i);
  while (classAfter(doc, i) === cls) i = nextIn(doc, i);
  while (classAfter(doc, i) === 'space') i = nextIn(doc, i);
  return i;
}

/** The run of same-class clusters around the cluster starting at `offset` (double-click). */
export function wordRangeAt(doc: Doc, offset: number): [number, number] {
  let cls = classAfter(doc, offset);
  // Past the end of a paragraph: pick the word just before.
  if (cls === null || cls === 'newline') {
    cls = classBefore(doc, offset);
    if (cls === null || cls === 'newline') return [offset, offset];
    let from = offset;
    while (classBefore(doc, from) === cls) from = prevIn(doc, from);
    return [from, offset];
  }
  if (cls === 'punct') return [offset, nextIn(doc, offset)];
  let from = offset;
  let to = offset;
  while (classBefore(doc, from) === cls) from = prevIn(doc, from);
  while (classAfter(doc, to) === cls) to = nextIn(doc, to);
  return [from, to];
}

/** The paragraph around `offset`, without its line feed (triple-click). */
export function paragraphRangeAt(doc: Doc, offset: number): [number, number] {
  const p = sourceOf(doc).paragraphAround(offset);
  return [p.start, p.start + p.text.length];
}
