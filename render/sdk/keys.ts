// Reading key inputs the same way in every app.
import type { KeyInput } from './input.js';

/** The text a key press types, if any: the composed `text`, else a single printable `key`. */
export function typedText(ev: KeyInput): string {
  if (ev.text !== undefined) return ev.text;
  const chars = [...ev.key];
  if (chars.length !== 1) return ''; // a named key: "Enter", "Dead", "F1"...
  const cp = ev.key.codePointAt(0) ?? 0;
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ? '' : ev.key;
}
