// Base64 without host APIs (no Buffer, no atob), strict: what the server
// writes into image import parts (`{ format: 'rgba', data }`) decodes here the
// same way on every host.
import { SdkError } from './errors.js';

export class Base64Error extends SdkError {}

const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const VALUES = new Int16Array(128).fill(-1);
for (let i = 0; i < ALPHABET.length; i++) VALUES[ALPHABET.charCodeAt(i)] = i;

function value(text: string, i: number): number {
  const c = text.charCodeAt(i);
  const v = c < 128 ? (VALUES[c] ?? -1) : -1;
  if (v < 0) throw new Base64Error(`invalid base64 character at ${i}`);
  return v;
}

/** The bytes of padded base64 `text` (RFC 4648 alphabet); throws Base64Error on anything else. */
export function decodeBase64(text: string): Uint8Array {
  if (text.length % 4 !== 0) throw new Base64Error('base64 length is not a multiple of 4');
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let o = 0;
  for (let i = 0; i < text.length; i += 4) {
    const last = i + 4 === text.length;
    const a = value(text, i);
    const b = value(text, i + 1);
    const c = last && pad === 2 ? 0 : value(text, i + 2);
    const d = last && pad >= 1 ? 0 : value(text, i + 3);
    const n = (a << 18) | (b << 12) | (c << 6) | d;
    out[o++] = n >> 16;
    if (o < out.length) out[o++] = (n >> 8) & 255;
    if (o < out.length) out[o++] = n & 255;
  }
  return out;
}
