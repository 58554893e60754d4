// What a soft keyboard did to the hidden textarea, as edits at the app's
// caret: delete so many characters before/after it, insert a string, then
// move the caret. Soft keyboards rewrite text (autocorrect, predictive text,
// IME commits) rather than pressing keys, so the viewer compares the
// textarea before and after instead of trusting event payloads. Pure.

export interface TextareaState {
  value: string;
  /** Caret (selectionEnd) in UTF-16 units. */
  caret: number;
}

export interface TextEdit {
  /** User-perceived characters to delete before the caret (Backspace presses). */
  deleteBackward: number;
  /** User-perceived characters to delete after the caret (Delete presses). */
  deleteForward: number;
  /** Text to type at the caret after the deletions. */
  insert: string;
  /** Caret moves after the insert: negative is ArrowLeft presses, positive ArrowRight. */
  caretMove: number;
}

let segmenter: Intl.Segmenter | null | undefined;

/**
 * Below U+0300 (where combining marks begin) every UTF-16 unit is a character of
 * its own, CR LF apart: a typed key's text needs no segmenter (it cost half a
 * millisecond per second of typing).
 */
function oneUnitEach(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x300 || c === 0x0d) return false;
  }
  return true;
}

/** Splits into user-perceived characters (code points without Intl.Segmenter). */
export function graphemes(s: string): string[] {
  if (oneUnitEach(s)) return s.split('');
  if (segmenter === undefined) {
    segmenter =
      typeof Intl !== 'undefined' && 'Segmenter' in Intl
        ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
        : null;
  }
  if (!segmenter) return [...s];
  return Array.from(segmenter.segment(s), (g) => g.segment);
}

function commonPrefix(a: string, b: string, max: number): number {
  let i = 0;
  while (i < max && a.charCodeAt(i) === b.charCodeAt(i)) i++;
  return i;
}

function commonSuffix(a: string, b: string, max: number): number {
  let i = 0;
  while (i < max && a.charCodeAt(a.length - 1 - i) === b.charCodeAt(b.length - 1 - i)) i++;
  return i;
}

/** Moves `i` back to the start of the grapheme it falls in, so no edit splits a character. */
function graphemeStart(s: string, i: number): number {
  let at = 0;
  for (const g of graphemes(s)) {
    if (at + g.length > i) return at;
    at += g.length;
  }
  return s.length;
}

function isEmpty(edit: TextEdit): boolean {
  return edit.deleteBackward === 0 && edit.deleteForward === 0 && edit.insert === '' && edit.caretMove === 0;
}

/**
 * The edits that turn `before` into `after`, anchored at `before.caret` (where
 * the app's caret is). The unchanged tail never reaches left of the old caret,
 * so a word replaced just before the caret ("teh " → "the ") becomes
 * backspaces plus typing, as the app expects. Returns null when nothing changed.
 */
export function diffTextarea(before: TextareaState, after: TextareaState): TextEdit | null {
  const oldCaret = Math.max(0, Math.min(before.caret, before.value.length));
  const suffixMax = Math.min(before.value.length - oldCaret, after.value.length);
  let suffix = commonSuffix(before.value, after.value, suffixMax);
  // The kept tail must start on a character boundary in both strings.
  while (suffix > 0 && graphemeStart(before.value, before.value.length - suffix) !== before.value.length - suffix)
    suffix--;
  const prefixMax = Math.min(oldCaret, after.value.length - suffix);
  let prefix = commonPrefix(before.value, after.value, prefixMax);
  prefix = Math.min(graphemeStart(before.value, prefix), graphemeStart(after.value, prefix));
  const oldEnd = before.value.length - suffix;
  const newEnd = after.value.length - suffix;
  const insert = after.value.slice(prefix, newEnd);
  const caretAfterInsert = newEnd;
  const newCaret = Math.max(0, Math.min(after.caret, after.value.length));
  const caretMove =
    newCaret >= caretAfterInsert
      ? graphemes(after.value.slice(caretAfterInsert, newCaret)).length
      : -graphemes(after.value.slice(newCaret, caretAfterInsert)).length;
  const edit: TextEdit = {
    deleteBackward: graphemes(before.value.slice(prefix, oldCaret)).length,
    deleteForward: graphemes(before.value.slice(oldCaret, oldEnd)).length,
    insert,
    caretMove,
  };
  return isEmpty(edit) ? null : edit;
}
