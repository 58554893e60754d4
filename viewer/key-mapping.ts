// Turns keyboard events into `key` inputs and decides which shortcuts stay
// with the browser. Pure (takes a plain subset of KeyboardEvent) for tests.
import { LIMITS } from '../protocol/limits.js';
import type { KeyInput, Modifiers } from '../protocol/input.js';

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
  if (e.isComposing || e.key === 'Process') return 'browser';
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

let segmenter: Intl.Segmenter | null | undefined;

/** Counts user-perceived characters; falls back to code points without Intl.Segmenter. */
function graphemeCount(s: string): number {
  if (segmenter === undefined) {
    segmenter =
      typeof Intl !== 'undefined' && 'Segmenter' in Intl
        ? new Intl.Segmenter(undefined, { granularity: 'grapheme' })
        : null;
  }
  if (segmenter) {
    let n = 0;
    for (const _ of segmenter.segment(s)) n++;
    return n;
  }
  return [...s].length;
}

/**
 * The text a key produces: its `key` when that is one printable grapheme and
 * no accelerator is held (Ctrl+A types nothing; AltGr = Ctrl+Alt still types).
 */
export function producedText(e: KeyLike): string | undefined {
  if (e.key.length === 0 || e.key.length > LIMITS.maxKeyLength) return undefined;
  if (graphemeCount(e.key) !== 1) return undefined; // "Enter", "Dead", "ArrowLeft"…
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
