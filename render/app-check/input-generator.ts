// A seeded, app-agnostic input log for determinism checks: typing (letters,
// accents, CJK, emoji, combining marks), editing keys with modifiers, pointer
// clicks and drags (mouse, pen, touch), wheel, paste, image import parts
// (random RGBA, translucent pixels too), resize and release-all, stamped like
// the sequencer stamps them.
import { NO_MODS, SequencedInputSchema, type InputEvent, type SequencedInput } from '../../protocol/input.js';
import { LIMITS } from '../../protocol/limits.js';
import { prng } from './prng.js';

const TYPED = [...'abcdefghijklmnopqrstuvwxyz0123456789 ,.;=+-*/()'].concat(['é', 'ß', '中', '😀', 'e\u0301', 'A']);
const NAMED = ['ArrowLeft', 'ArrowRight', 'ArrowUp', 'ArrowDown', 'Home', 'End', 'Backspace', 'Delete', 'Enter', 'Tab'];
const PASTES = ['hello world', 'a\tb\tc\n1\t2\t3', '=SUM(A1:A3)', 'déjà vu 中文 😀', 'line one\nline two\n', '42'];

export interface GeneratedLogOptions {
  seed: number;
  count: number;
  width: number;
  height: number;
}

export function generateInputLog({ seed, count, width: w0, height: h0 }: GeneratedLogOptions): SequencedInput[] {
  const rnd = prng(seed);
  const pick = <T>(items: readonly T[]): T => items[Math.floor(rnd() * items.length)] as T;
  const int = (max: number): number => Math.floor(rnd() * max);
  let width = w0;
  let height = h0;
  const events: InputEvent[] = [];
  const mods = () => ({ ...NO_MODS, shift: rnd() < 0.25, ctrl: rnd() < 0.15 });
  while (events.length < count) {
    const r = rnd();
    if (r < 0.4) {
      const ch = pick(TYPED);
      const single = [...ch].length === 1;
      events.push({
        type: 'key',
        action: 'down',
        key: single ? ch : 'Unidentified',
        code: '',
        mods: NO_MODS,
        text: ch,
      });
      events.push({ type: 'key', action: 'up', key: single ? ch : 'Unidentified', code: '', mods: NO_MODS });
    } else if (r < 0.6) {
      const key = pick(NAMED);
      const m = mods();
      events.push({ type: 'key', action: 'down', key, code: key, mods: m });
      events.push({ type: 'key', action: 'up', key, code: key, mods: m });
    } else if (r < 0.8) {
      const pointerType = pick(['mouse', 'mouse', 'pen', 'touch'] as const);
      let x = int(width);
      let y = int(height);
      const base = { type: 'pointer' as const, button: 0, mods: NO_MODS, pointerType };
      events.push({ ...base, action: 'down', x, y, buttons: 1, detail: 1 + int(3) });
      for (let i = int(6); i > 0; i--) {
        x = Math.max(0, Math.min(width - 1, x + int(81) - 40));
        y = Math.max(0, Math.min(height - 1, y + int(81) - 40));
        events.push({ ...base, action: 'move', x, y, buttons: 1 });
      }
      events.push({ ...base, action: 'up', x, y, buttons: 0 });
    } else if (r < 0.87) {
      events.push({ type: 'wheel', x: int(width), y: int(height), dx: 0, dy: int(400) - 200, mods: NO_MODS });
    } else if (r < 0.93) {
      events.push({ type: 'paste', text: pick(PASTES) });
    } else if (r < 0.95) {
      // A small image in one to three bands, as the server cuts an imported file (server/image-import.ts).
      const w = 8 + int(57);
      const h = 8 + int(41);
      const rgba = Buffer.from(Array.from({ length: w * h * 4 }, () => int(256)));
      const bands = 1 + int(3);
      const rows = Math.ceil(h / bands);
      for (let row = 0; row < h; row += rows) {
        const data = rgba.subarray(row * w * 4, Math.min(h, row + rows) * w * 4).toString('base64');
        events.push({ type: 'import', format: 'rgba', row, width: w, height: h, data });
      }
    } else if (r < 0.985) {
      width = Math.max(LIMITS.minViewport, Math.min(LIMITS.maxViewportWidth, w0 + int(401) - 200));
      height = Math.max(LIMITS.minViewport, Math.min(LIMITS.maxViewportHeight, h0 + int(301) - 150));
      events.push({ type: 'resize', width, height });
    } else {
      events.push({ type: 'release-all' });
    }
  }
  return events.slice(0, count).map((event, i) =>
    SequencedInputSchema.parse({
      seq: i + 1,
      time: 1_700_000_000_000 + i * 37,
      clientId: `client-${i % 2}`,
      clientSeq: i >> 1,
      event,
    }),
  );
}
