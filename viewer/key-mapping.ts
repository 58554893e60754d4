// Turns keyboard events into `key` inputs and decides which shortcuts stay
// with the browser. Pure (takes a plain subset of KeyboardEvent) for tests.
import { LIMITS } from '../protocol/limits.js';
import { NO_MODS, type InputEvent, type KeyInput, type Modifiers } from '../protocol/input.js';
import { graphemes, type TextEdit } from './text-edit.js';

export interface KeyLike {
  key: string;
  code: string;
  shiftKey: boolean;
  ctrlKey: boolean;
  altKey: boolean;
  metaKey: boolean;
  repeat: boolean;
  isComposing?: boolean;
}

export function modsOf(e: Pick<KeyLike, 'shiftKey' | 'ctrlKey' | 'altKey' | 'metaKey'>): Modifiers {
  return { shift: e.shiftKey, ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey };
}

export type KeyDisposition =
  /** Send to the app and preventDefault (no browser scrolling, navigation…). */
  | 'app'
  /** Leave to the browser, send nothing (reload, devtools; paste arrives as a paste event). */
  | 'browser';

const FUNCTION_KEYS_FOR_BROWSER = new Set(['F5', 'F11', 'F12']);

/** Browser shortcuts the viewer must not swallow. Everything else goes to the app. */
export function keyDisposition(e: KeyLike): KeyDisposition {
  // IME and soft-keyboard keys: their text arrives as input events on the hidden textarea (soft-keyboard.ts).
  if (e.isComposing || e.key === 'Process' || e.key === 'Unidentified') return 'browser';
  if (FUNCTION_KEYS_FOR_BROWSER.has(e.key)) return 'browser';
  const accel = e.ctrlKey || e.metaKey;
  const k = e.key.length === 1 ? e.key.toLowerCase() : e.key;
  if (accel && !e.altKey) {
    if (k === 'r') return 'browser'; // reload (also with Shift)
    if (k === 'v') return 'browser'; // paste: the text comes through the paste event
    if (e.shiftKey && (k === 'i' || k === 'j' || k === 'c')) return 'browser'; // devtools
    if (e.metaKey && (k === 'q' || k === 'w' || k === 't' || k === 'n')) return 'browser'; // macOS window keys
  }
  if (e.shiftKey && e.key === 'Insert') return 'browser'; // legacy paste
  return 'app';
}

/**
 * The text a key produces: its `key` when that is one printable grapheme and
 * no accelerator is held (Ctrl+A types nothing; AltGr = Ctrl+Alt still types).
 */
export function producedText(e: KeyLike): string | undefined {
  if (e.key.length === 0 || e.key.length > LIMITS.maxKeyLength) return undefined;
  if (graphemes(e.key).length !== 1) return undefined; // "Enter", "Dead", "ArrowLeft"…
  // eslint-disable-next-line no-control-regex -- control characters produce no text
  if (/^[\u0000-\u001f\u007f-\u009f]$/.test(e.key)) return undefined;
  const altGr = e.ctrlKey && e.altKey;
  if ((e.ctrlKey || e.metaKey) && !altGr) return undefined;
  return e.key;
}

export function keyInput(e: KeyLike, action: 'down' | 'up'): KeyInput {
  const input: KeyInput = {
    type: 'key',
    action,
    key: e.key.slice(0, LIMITS.maxKeyLength) || 'Unidentified',
    code: e.code.slice(0, LIMITS.maxKeyLength),
    mods: modsOf(e),
  };
  if (action === 'down') {
    const text = producedText(e);
    if (text !== undefined) input.text = text;
    if (e.repeat) input.repeat = true;
  }
  return input;
}

/** Keys a soft keyboard's edits are replayed with (text-edit.ts). */
export type EditingKey = 'Backspace' | 'Delete' | 'Enter' | 'ArrowLeft' | 'ArrowRight';

/** A press and release of a named key, as a hardware keyboard would send them. */
export function namedKeyTap(key: EditingKey): KeyInput[] {
  const down: KeyInput = { type: 'key', action: 'down', key, code: key, mods: { ...NO_MODS } };
  return [down, { ...down, action: 'up' }];
}

/**
 * Text from a soft keyboard or an IME as key presses carrying `text`, the
 * form apps already type: one press per character (a newline is Enter).
 * `code` is empty, as no physical key was pressed; a character longer than
 * the key limit is split by code point with `key` "Unidentified".
 */
export function textTaps(text: string): KeyInput[] {
  const out: KeyInput[] = [];
  const press = (chunk: string, single: boolean): void => {
    const down: KeyInput = {
      type: 'key',
      action: 'down',
      key: single ? chunk : 'Unidentified',
      code: '',
      text: chunk,
      mods: { ...NO_MODS },
    };
    out.push(down, { type: 'key', action: 'up', key: down.key, code: '', mods: { ...NO_MODS } });
  };
  for (const g of graphemes(text)) {
    if (g === '\n') {
      out.push(...namedKeyTap('Enter'));
      continue;
    }
    if (g.length <= LIMITS.maxKeyLength) {
      press(g, true);
      continue;
    }
    // A pathological cluster (stacked combining marks): split by code point.
    let chunk = '';
    for (const cp of g) {
      if (chunk.length + cp.length > LIMITS.maxKeyLength) {
        press(chunk, false);
        chunk = '';
      }
      chunk += cp;
    }
    if (chunk) press(chunk, false);
  }
  return out;
}

/** Inserts longer than this (a clipboard suggestion, a phrase) go as one paste, not a press per character. */
export const LONG_INSERT_GRAPHEMES = 32;

/**
 * A soft-keyboard edit (text-edit.ts) as the inputs that make it at the app's
 * caret: Backspace/Delete presses, the text typed (or pasted when long), arrows.
 */
export function editInputs(edit: TextEdit): InputEvent[] {
  const out: InputEvent[] = [];
  for (let i = 0; i < edit.deleteBackward; i++) out.push(...namedKeyTap('Backspace'));
  for (let i = 0; i < edit.deleteForward; i++) out.push(...namedKeyTap('Delete'));
  const chars = graphemes(edit.insert);
  if (chars.length > LONG_INSERT_GRAPHEMES) {
    let chunk = '';
    for (const g of chars) {
      if (chunk.length + g.length > LIMITS.maxPasteChars) {
        out.push({ type: 'paste', text: chunk });
        chunk = '';
      }
      chunk += g;
    }
    if (chunk) out.push({ type: 'paste', text: chunk });
  } else {
    out.push(...textTaps(edit.insert));
  }
  const arrow = edit.caretMove < 0 ? 'ArrowLeft' : 'ArrowRight';
  for (let i = 0; i < Math.abs(edit.caretMove); i++) out.push(...namedKeyTap(arrow));
  return out;
}
