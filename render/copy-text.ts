// Copy out of the app: the app's clipboard text (its selection) once the
// replica has applied everything the viewer sent before pressing Ctrl+C.
import { LIMITS } from '../protocol/limits.js';
import type { Replica } from './replica.js';

const POLL_MS = 15;

/** Waits (bounded) until `replica` applied `atSeq`, then asks the app for its copy text. */
export async function copyWhenApplied(
  replica: Replica<unknown>,
  atSeq: number,
  timeoutMs = 3000,
): Promise<{ text: string | null; seq: number }> {
  const deadline = performance.now() + timeoutMs;
  while (replica.appliedSeq < atSeq) {
    if (performance.now() > deadline) throw new Error(`replica ${replica.id} did not reach seq ${atSeq} in time`);
    await new Promise((r) => setTimeout(r, POLL_MS));
  }
  const { text, seq } = await replica.copyText();
  return { text: boundText(text), seq };
}

/** At most maxPasteChars UTF-16 units, never ending in half a surrogate pair. */
export function boundText(text: string | null): string | null {
  if (text === null || text.length <= LIMITS.maxPasteChars) return text;
  let cut = text.slice(0, LIMITS.maxPasteChars);
  const last = cut.charCodeAt(cut.length - 1);
  if (last >= 0xd800 && last <= 0xdbff) cut = cut.slice(0, -1);
  return cut;
}
