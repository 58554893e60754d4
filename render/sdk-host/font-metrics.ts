// Glyph coverage and advance widths read straight from the TTF tables. Layout
// built on these numbers depends only on the font file's bytes, never on the
// host's Pango/FreeType build or on which fallback fonts it has installed.
// The SDK hands these to apps (`loadFont(...).metrics`).
import type { FontMetrics } from '../sdk/fonts.js';

interface TableRecord {
  offset: number;
  length: number;
}

function readTables(data: Buffer): Map<string, TableRecord> {
  if (data.length < 12) throw new Error('font: file too short');
  const numTables = data.readUInt16BE(4);
  const tables = new Map<string, TableRecord>();
  for (let i = 0; i < numTables; i++) {
    const rec = 12 + i * 16;
    const tag = data.toString('latin1', rec, rec + 4);
    const offset = data.readUInt32BE(rec + 8);
    const length = data.readUInt32BE(rec + 12);
    if (offset + length > data.length) throw new Error(`font: table ${tag} out of bounds`);
    tables.set(tag, { offset, length });
  }
  return tables;
}

function requireTable(tables: Map<string, TableRecord>, tag: string): TableRecord {
  const t = tables.get(tag);
  if (!t) throw new Error(`font: missing ${tag} table`);
  return t;
}

type GlyphLookup = (codePoint: number) => number;

/** cmap format 12: sequential groups covering the whole code space. */
function format12(data: Buffer, at: number): GlyphLookup {
  const numGroups = data.readUInt32BE(at + 12);
  const starts = new Uint32Array(numGroups);
  const ends = new Uint32Array(numGroups);
  const glyphs = new Uint32Array(numGroups);
  for (let i = 0; i < numGroups; i++) {
    const g = at + 16 + i * 12;
    starts[i] = data.readUInt32BE(g);
    ends[i] = data.readUInt32BE(g + 4);
    glyphs[i] = data.readUInt32BE(g + 8);
  }
  return (cp) => {
    let lo = 0;
    let hi = numGroups - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      if (cp < (starts[mid] ?? 0)) hi = mid - 1;
      else if (cp > (ends[mid] ?? 0)) lo = mid + 1;
      else return (glyphs[mid] ?? 0) + cp - (starts[mid] ?? 0);
    }
    return 0;
  };
}

/** cmap format 4: segment mapping for the Basic Multilingual Plane. */
function format4(data: Buffer, at: number): GlyphLookup {
  const segCount = data.readUInt16BE(at + 6) / 2;
  const endsAt = at + 14;
  const startsAt = endsAt + segCount * 2 + 2;
  const deltasAt = startsAt + segCount * 2;
  const rangesAt = deltasAt + segCount * 2;
  return (cp) => {
    if (cp > 0xffff) return 0;
    for (let i = 0; i < segCount; i++) {
      const end = data.readUInt16BE(endsAt + i * 2);
      if (cp > end) continue;
      const start = data.readUInt16BE(startsAt + i * 2);
      if (cp < start) return 0;
      const delta = data.readInt16BE(deltasAt + i * 2);
      const rangeOffset = data.readUInt16BE(rangesAt + i * 2);
      if (rangeOffset === 0) return (cp + delta) & 0xffff;
      const glyph = data.readUInt16BE(rangesAt + i * 2 + rangeOffset + (cp - start) * 2);
      return glyph === 0 ? 0 : (glyph + delta) & 0xffff;
    }
    return 0;
  };
}

function readCmap(data: Buffer, cmap: TableRecord): GlyphLookup {
  const count = data.readUInt16BE(cmap.offset + 2);
  let best: { rank: number; lookup: GlyphLookup } | null = null;
  for (let i = 0; i < count; i++) {
    const rec = cmap.offset + 4 + i * 8;
    const platform = data.readUInt16BE(rec);
    const encoding = data.readUInt16BE(rec + 2);
    const at = cmap.offset + data.readUInt32BE(rec + 4);
    const format = data.readUInt16BE(at);
    const unicode = platform === 0 || (platform === 3 && (encoding === 1 || encoding === 10));
    if (!unicode) continue;
    // Prefer the full-range table; fall back to the BMP one.
    if (format === 12 && (!best || best.rank < 2)) best = { rank: 2, lookup: format12(data, at) };
    else if (format === 4 && !best) best = { rank: 1, lookup: format4(data, at) };
  }
  if (!best) throw new Error('font: no Unicode cmap subtable');
  return best.lookup;
}

export function parseFontMetrics(data: Buffer): FontMetrics {
  const tables = readTables(data);
  const head = requireTable(tables, 'head');
  const hhea = requireTable(tables, 'hhea');
  const hmtx = requireTable(tables, 'hmtx');
  const unitsPerEm = data.readUInt16BE(head.offset + 18);
  const ascender = data.readInt16BE(hhea.offset + 4);
  const descender = data.readInt16BE(hhea.offset + 6);
  const numberOfHMetrics = data.readUInt16BE(hhea.offset + 34);
  if (unitsPerEm === 0 || numberOfHMetrics === 0) throw new Error('font: bad head/hhea');
  const glyphOf = readCmap(data, requireTable(tables, 'cmap'));
  const advanceOfGlyph = (glyph: number): number => {
    // Glyphs past numberOfHMetrics share the last advance (monospaced tail).
    const index = Math.min(glyph, numberOfHMetrics - 1);
    return data.readUInt16BE(hmtx.offset + index * 4);
  };
  return {
    unitsPerEm,
    ascender,
    descender,
    advanceOf(codePoint) {
      const glyph = glyphOf(codePoint);
      return glyph === 0 ? null : advanceOfGlyph(glyph);
    },
  };
}
