// Font metrics as plain data for a sandbox: the advance of every code point
// the font covers, in runs, so the app's `loadFont(...).metrics` answers
// inside its context without calling back into the host.
import { readFileSync } from 'node:fs';
import { parseFontMetrics } from '../sdk-host/font-metrics.js';

export interface FontTableEntry {
  unitsPerEm: number;
  ascender: number;
  descender: number;
  /** [first code point, last code point, advance of each code point in between...]. */
  runs: number[][];
}

const byPath = new Map<string, FontTableEntry>();

function tableOf(path: string): FontTableEntry {
  const cached = byPath.get(path);
  if (cached) return cached;
  const m = parseFontMetrics(readFileSync(path));
  const runs: number[][] = [];
  let run: number[] | null = null;
  for (let cp = 0; cp <= 0x10ffff; cp++) {
    const adv = m.advanceOf(cp);
    if (adv === null) {
      run = null;
      continue;
    }
    if (!run) {
      run = [cp, cp];
      runs.push(run);
    }
    run[1] = cp;
    run.push(adv);
  }
  const entry = { unitsPerEm: m.unitsPerEm, ascender: m.ascender, descender: m.descender, runs };
  byPath.set(path, entry);
  return entry;
}

/** JSON for the sandbox: family → metrics table. */
export function fontTableJson(fonts: ReadonlyMap<string, string>): string {
  const out: Record<string, FontTableEntry> = {};
  for (const [family, path] of fonts) out[family] = tableOf(path);
  return JSON.stringify(out);
}
