// What the writer knows about its text beyond the string itself, per
// paragraph: its own text, where it starts, how it wraps at the current width,
// its word and character counts and its digest. An edit updates only the
// paragraphs it touched (and O(log n) sums), so layout, counts and hashing cost
// what the edit and the screen cost, not what the document costs. Everything
// here is derived from the text alone: a rebuilt index equals an updated one.
//
// Nothing on a keystroke's path reads the whole text string: reads go to the
// paragraphs' own strings, and an edit's new text is the untouched text before
// and after the edited paragraphs (kept from the last edit there) joined to
// their new text, which V8 does without copying (a rope). Reading that string
// would copy all of it (V8 flattens a rope on first read), 0.3-0.9 ms at 200k
// characters; only a snapshot, an export or a copy does, and the first edit in
// another paragraph slices the text once.
import { clusterCount } from './clusters.js';
import { Fenwick } from './fenwick.js';
import type { Layout, ParagraphText, VisualLine, WidthFn } from './layout.js';
import { wrapFrom, wrapParagraph } from './layout.js';
import { countText, type TextCounts } from './stats.js';

/** Paragraphs per digest group: an edit re-hashes its paragraph, its group and the list of group digests. */
export const PARAGRAPHS_PER_GROUP = 32;

/** An edit of the text: `removed` UTF-16 units at `from` replaced by `inserted` units. */
export interface TextEdit {
  readonly from: number;
  readonly removed: number;
  readonly inserted: number;
}

/** An edit's result from TextIndex.splice: the whole new text and the new text of the paragraphs it touched. */
export interface Splice extends ParagraphText {
  /** The whole new text (a rope over the untouched text; see the header). */
  readonly whole: string;
}

interface Paragraph {
  /** Its text, without its line feed. */
  text: string;
  /** Length without its line feed. */
  len: number;
  /** Null until counted: typing only marks a paragraph, the status bar counts it when it is drawn. */
  counts: TextCounts | null;
  /** Relative visual line starts at the index's wrap width (null until wrapped). */
  starts: number[] | null;
  /** Cached digest of the paragraph's text (see writer-digest.ts), null when not computed. */
  digest: Uint8Array | null;
}

/** A Layout used after the text it was made for changed: a bug, never a user error. */
export class StaleLayoutError extends Error {
  constructor() {
    super('writer layout used after its text changed');
    this.name = 'StaleLayoutError';
  }
}

export class TextIndex {
  #text: string;
  #paras: Paragraph[] = [];
  /** Paragraph lengths + 1 (its line feed): prefix(k) is where paragraph k starts. */
  #offsets!: Fenwick;
  /** Characters per paragraph (counts.characters). */
  #chars!: Fenwick;
  #words = 0;
  /** Paragraphs whose counts are null (their old counts already taken out of the sums). */
  readonly #uncounted = new Set<number>();
  #wrap: { width: number; widthOf: WidthFn; lines: Fenwick } | null = null;
  /** Bumped on every change; layouts made before it are stale. */
  #version = 0;
  #layout: Layout | null = null;
  /** Cached digests of paragraph groups (PARAGRAPHS_PER_GROUP consecutive paragraphs; see writer-digest.ts). */
  #groups: (Uint8Array | null)[] = [];
  /**
   * The text before and after the paragraphs the last edit touched (the text is before + their text + after),
   * so the next edit there joins its new paragraph text to them without reading the text.
   */
  #around: { before: string; after: string } | null = null;
  /** Times an edit read the whole text string (see the header; tests hold the keystroke path to none). */
  #wholeReads = 0;
  /** The last splice, which edit() takes instead of reading the new text. */
  #spliced: (Splice & { from: number; removed: number; inserted: number; before: string; after: string }) | null = null;

  constructor(text: string) {
    this.#text = text;
    let p = 0;
    for (;;) {
      const nl = text.indexOf('\n', p);
      const end = nl === -1 ? text.length : nl;
      this.#paras.push(this.#paragraph(p, end));
      if (nl === -1) break;
      p = nl + 1;
    }
    this.#reindex();
  }

  get text(): string {
    return this.#text;
  }

  get paragraphCount(): number {
    return this.#paras.length;
  }

  #paragraph(start: number, end: number): Paragraph {
    return TextIndex.#paragraphOf(this.#text.slice(start, end));
  }

  static #paragraphOf(text: string): Paragraph {
    return { text, len: text.length, counts: countText(text), starts: null, digest: null };
  }

  /** Counts the paragraphs typing left uncounted and adds them into the sums. */
  #count(): void {
    for (const k of this.#uncounted) {
      const p = this.#paras[k];
      if (!p) continue;
      p.counts = countText(this.paragraphText(k));
      this.#chars.add(k, p.counts.characters);
      this.#words += p.counts.words;
    }
    this.#uncounted.clear();
  }

  /** Rebuilds the sums from the paragraph list (after paragraphs were added or removed). */
  #reindex(): void {
    this.#uncounted.clear();
    const counted = this.#paras.map((p, k) => (p.counts ??= countText(this.paragraphText(k))));
    this.#offsets = new Fenwick(this.#paras.map((p) => p.len + 1));
    this.#chars = new Fenwick(counted.map((c) => c.characters));
    this.#words = counted.reduce((n, c) => n + c.words, 0);
    if (this.#wrap) this.#wrap.lines = new Fenwick(this.#paras.map((_, k) => this.#startsOf(k).length));
  }

  /** Index of the paragraph holding `offset` (a line feed belongs to the paragraph it ends). */
  paragraphAt(offset: number): number {
    return this.#offsets.slotAt(offset);
  }

  paragraphStart(k: number): number {
    return this.#offsets.prefix(k);
  }

  paragraphEnd(k: number): number {
    return this.paragraphStart(k) + (this.#paras[k]?.len ?? 0);
  }

  paragraphText(k: number): string {
    return this.#paras[k]?.text ?? '';
  }

  /** The paragraph holding `offset` (a line feed belongs to the paragraph it ends). */
  paragraphAround(offset: number): ParagraphText {
    const k = this.paragraphAt(Math.max(0, offset));
    return { start: this.paragraphStart(k), text: this.paragraphText(k) };
  }

  get length(): number {
    return this.#text.length;
  }

  /** How many times an edit has read the whole text (each read copies a rope once; see the header). */
  get wholeTextReads(): number {
    return this.#wholeReads;
  }

  /**
   * The text with [from, to) replaced by `piece`, built from the paragraphs the edit touches and the untouched
   * text around them (kept from the last edit in the same paragraphs, else sliced once): the cost of the
   * touched paragraphs, not of the text. Pass the result's `whole` to edit() with the matching TextEdit.
   */
  splice(from: number, to: number, piece: string): Splice {
    const first = this.paragraphAt(from);
    const last = this.paragraphAt(to);
    const start = this.paragraphStart(first);
    const old: string[] = [];
    for (let k = first; k <= last; k++) old.push(this.paragraphText(k));
    const local = old.join('\n');
    const text = local.slice(0, from - start) + piece + local.slice(to - start);
    const { before, after } = this.#aroundOf(first, last);
    const whole = before + text + after;
    this.#spliced = { whole, start, text, from, removed: to - from, inserted: piece.length, before, after };
    return { whole, start, text };
  }

  /** The paragraph's cached digest, computed with `digestOf` when missing. */
  paragraphDigest(k: number, digestOf: (text: string) => Uint8Array): Uint8Array {
    const p = this.#paras[k];
    if (!p) throw new RangeError(`text index: no paragraph ${k}`);
    p.digest ??= digestOf(this.paragraphText(k));
    return p.digest;
  }

  get groupCount(): number {
    return Math.ceil(this.#paras.length / PARAGRAPHS_PER_GROUP);
  }

  /** Group `g`'s cached digest, computed with `digestOf` from its paragraphs' indexes when missing. */
  groupDigest(g: number, digestOf: (first: number, end: number) => Uint8Array): Uint8Array {
    if (!Number.isInteger(g) || g < 0 || g >= this.groupCount) throw new RangeError(`text index: no group ${g}`);
    while (this.#groups.length <= g) this.#groups.push(null);
    const first = g * PARAGRAPHS_PER_GROUP;
    const digest = this.#groups[g] ?? digestOf(first, Math.min(first + PARAGRAPHS_PER_GROUP, this.#paras.length));
    this.#groups[g] = digest;
    return digest;
  }

  counts(): TextCounts {
    this.#count();
    return { words: this.#words, characters: this.#chars.total() };
  }

  /** 1-based paragraph number and column (in characters) of `offset`. */
  /**
   * The text before paragraph `first` and after paragraph `last`: from the last edit's when its paragraphs
   * hold these (the paragraphs in between joined from their own strings: after an Enter, typing goes on in
   * the new paragraph at no cost of the text), else sliced from the text (which reads, so copies, it once).
   */
  #aroundOf(first: number, last: number): { before: string; after: string } {
    const start = this.paragraphStart(first);
    const end = this.paragraphEnd(last);
    const around = this.#around;
    const from = around ? around.before.length : -1;
    const to = around ? this.#text.length - around.after.length : -1;
    if (!around || from > start || to < end) {
      this.#wholeReads++;
      return { before: this.#text.slice(0, start), after: this.#text.slice(end) };
    }
    const join = (a: number, b: number): string => {
      const parts: string[] = [];
      for (let k = a; k <= b; k++) parts.push(this.paragraphText(k));
      return parts.join('\n');
    };
    const kFrom = this.paragraphAt(from);
    const kTo = this.paragraphAt(to);
    const before = kFrom < first ? around.before + join(kFrom, first - 1) + '\n' : around.before;
    const after = kTo > last ? '\n' + join(last + 1, kTo) + around.after : around.after;
    return { before, after };
  }

  lineColumnAt(offset: number): { line: number; column: number } {
    const k = this.paragraphAt(offset);
    return { line: k + 1, column: clusterCount(this.paragraphText(k), 0, offset - this.paragraphStart(k)) + 1 };
  }

  /** Clusters in [from, to) (both cluster boundaries): whole paragraphs in between come from their counts. */
  clusterCount(from: number, to: number): number {
    this.#count();
    const a = this.paragraphAt(from);
    const b = this.paragraphAt(to);
    const startA = this.paragraphStart(a);
    if (a === b) return clusterCount(this.paragraphText(a), from - startA, to - startA);
    // Each line feed is a cluster of its own; the paragraphs strictly between are counted whole.
    const middle = this.#chars.prefix(b) - this.#chars.prefix(a + 1);
    const textA = this.paragraphText(a);
    return (
      clusterCount(textA, from - startA, textA.length) +
      middle +
      (b - a) +
      clusterCount(this.paragraphText(b), 0, to - this.paragraphStart(b))
    );
  }

  /**
   * Applies an edit that turned the indexed text into `text`. Only the paragraphs the edit
   * touched are re-read, re-counted and re-wrapped.
   */
  edit(text: string, e: TextEdit): void {
    const old = this.#text;
    const first = this.paragraphAt(e.from);
    const last = this.paragraphAt(e.from + e.removed);
    const start = this.paragraphStart(first);
    const oldEnd = this.paragraphEnd(last);
    const newEnd = oldEnd - e.removed + e.inserted;
    if (newEnd < start || newEnd > text.length || old.length - e.removed + e.inserted !== text.length) {
      throw new RangeError('text index: the edit does not match the texts');
    }
    // The touched paragraphs' new text: from the splice that made `text` (no read of it), else read from it.
    const s = this.#spliced;
    const fromSplice =
      s !== null && s.whole === text && s.from === e.from && s.removed === e.removed && s.inserted === e.inserted;
    if (!fromSplice) this.#wholeReads++;
    const local = fromSplice ? s.text : text.slice(start, newEnd);
    this.#around = fromSplice ? { before: s.before, after: s.after } : null;
    this.#spliced = null;
    this.#text = text;
    this.#version++;
    this.#layout = null;
    if (first === last && !local.includes('\n')) {
      // The common case (typing inside a paragraph): point updates of the sums, counting deferred, and the
      // paragraph re-wrapped only from just before the edit to where its old lines resume.
      const was = this.#paras[first];
      if (!was) throw new RangeError(`text index: no paragraph ${first}`);
      const now: Paragraph = { text: local, len: local.length, counts: null, starts: null, digest: null };
      this.#paras[first] = now;
      this.#offsets.add(first, now.len - was.len);
      if (was.counts) {
        this.#chars.add(first, -was.counts.characters);
        this.#words -= was.counts.words;
      }
      this.#uncounted.add(first);
      if (this.#wrap && was.starts) {
        now.starts = this.#rewrap(first, was.starts, e.from - start, e.removed, e.inserted);
        this.#wrap.lines.add(first, now.starts.length - was.starts.length);
      } else if (this.#wrap) this.#wrap.lines.add(first, this.#startsOf(first).length - (was.starts?.length ?? 0));
      const g = Math.floor(first / PARAGRAPHS_PER_GROUP);
      if (g < this.#groups.length) this.#groups[g] = null;
      return;
    }
    const replaced = local.split('\n').map((t) => TextIndex.#paragraphOf(t));
    this.#paras.splice(first, last - first + 1, ...replaced);
    this.#reindex();
    // Paragraphs moved between groups from here on.
    this.#groups.length = Math.min(this.#groups.length, Math.floor(first / PARAGRAPHS_PER_GROUP));
  }

  /**
   * Paragraph `k`'s new line starts after an edit at `rel` (relative to the paragraph) from its old ones:
   * lines two before the edit's keep their starts (an edit can pull a word back onto the line before, and
   * cluster boundaries move at most one cluster back); wrapping resumes there and stops at the first start
   * past the edit that is an old start shifted, after which the text and so the lines are the old ones.
   */
  #rewrap(k: number, old: number[], rel: number, removed: number, inserted: number): number[] {
    const wrap = this.#wrap;
    if (!wrap) throw new RangeError('text index: no wrap width');
    let j = 0;
    while (j + 1 < old.length && (old[j + 1] ?? 0) <= rel) j++;
    const restart = Math.max(0, j - 2);
    const delta = inserted - removed;
    const editEnd = rel + inserted;
    const oldIndexOf = (s: number): number => {
      let lo = j;
      let hi = old.length - 1;
      while (lo <= hi) {
        const mid = (lo + hi) >> 1;
        const v = (old[mid] ?? 0) + delta;
        if (v === s) return mid;
        if (v < s) lo = mid + 1;
        else hi = mid - 1;
      }
      return -1;
    };
    const mid = wrapFrom(this.paragraphText(k), wrap.width, wrap.widthOf, old[restart] ?? 0, (s) => {
      return s > editEnd && oldIndexOf(s) !== -1;
    });
    const lastStart = mid[mid.length - 1] ?? 0;
    const resumed = mid.length > 1 && lastStart > editEnd ? oldIndexOf(lastStart) : -1;
    const tail = resumed === -1 ? [] : old.slice(resumed + 1).map((v) => v + delta);
    return [...old.slice(0, restart), ...mid, ...tail];
  }

  #startsOf(k: number): number[] {
    const p = this.#paras[k];
    if (!p || !this.#wrap) throw new RangeError(`text index: no paragraph ${k} to wrap`);
    p.starts ??= wrapParagraph(this.paragraphText(k), this.#wrap.width, this.#wrap.widthOf);
    return p.starts;
  }

  /** The text's visual lines at `wrapWidth` (a new width re-wraps every paragraph once). */
  layout(wrapWidth: number, widthOf: WidthFn): Layout {
    if (this.#wrap?.width !== wrapWidth || this.#wrap.widthOf !== widthOf) {
      for (const p of this.#paras) p.starts = null;
      this.#wrap = { width: wrapWidth, widthOf, lines: new Fenwick([]) };
      this.#wrap.lines = new Fenwick(this.#paras.map((_, k) => this.#startsOf(k).length));
      this.#layout = null;
    }
    this.#layout ??= this.#makeLayout(wrapWidth, this.#wrap.lines);
    return this.#layout;
  }

  #makeLayout(wrapWidth: number, lines: Fenwick): Layout {
    const version = this.#version;
    const length = this.#text.length;
    const fresh = (): void => {
      if (this.#version !== version) throw new StaleLayoutError();
    };
    const lineCount = lines.total();
    return {
      length,
      wrapWidth,
      lineCount,
      paragraphAt: (offset: number): ParagraphText => {
        fresh();
        return this.paragraphAround(offset);
      },
      line: (index: number): VisualLine => {
        fresh();
        if (!Number.isInteger(index) || index < 0 || index >= lineCount)
          throw new RangeError(`layout: no line ${index}`);
        const k = lines.slotAt(index);
        const starts = this.#startsOf(k);
        const j = index - lines.prefix(k);
        const base = this.paragraphStart(k);
        const next = starts[j + 1];
        return next === undefined
          ? { start: base + (starts[j] ?? 0), end: base + (this.#paras[k]?.len ?? 0), hard: true }
          : { start: base + (starts[j] ?? 0), end: base + next, hard: false };
      },
      lineIndexAt: (offset: number): number => {
        fresh();
        const k = this.paragraphAt(Math.max(0, offset));
        const starts = this.#startsOf(k);
        const rel = offset - this.paragraphStart(k);
        // The last visual line of the paragraph that starts at or before the offset.
        let lo = 0;
        let hi = starts.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >> 1;
          if ((starts[mid] ?? 0) <= rel) lo = mid;
          else hi = mid - 1;
        }
        return lines.prefix(k) + lo;
      },
    };
  }
}
