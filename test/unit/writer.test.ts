import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createCanvas } from 'canvas';
import { NO_MODS, type InputEvent, type Modifiers } from '../../protocol/input.js';
import { stateHashOf } from '../../render/app-hash.js';
import { writerApp } from '../../render/apps/index.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import {
  lineIndexAt,
  wrapParagraph,
  xAtOffset,
  type Layout,
  type VisualLine,
} from '../../render/apps/writer/layout.js';
import { clusterCount, snapToBoundary } from '../../render/apps/writer/clusters.js';
import { countText } from '../../render/apps/writer/stats.js';
import { TextIndex } from '../../render/apps/writer/text-index.js';
import { textIndexOf } from '../../render/apps/writer/state.js';
import { prng } from '../helpers/prng.js';
import {
  LINE_HEIGHT_PX,
  layoutOf,
  lineTop,
  MARGIN_X_PX,
  textAreaHeight,
  widthOf,
  wrapWidthOf,
} from '../../render/apps/writer/view.js';
import { UNITS_PER_PX } from '../../render/apps/writer/measure.js';
import { AppDriver } from '../helpers/app-driver.js';

/** Drives the writer the way a sequencer would: numbered inputs, sequencer-stamped time. */
class Session extends AppDriver<WriterState> {
  constructor(width = 800, height = 600) {
    super(writerApp, width, height);
  }

  key(key: string, mods: Partial<Modifiers> = {}, text?: string): this {
    const base = { type: 'key' as const, key, code: '', mods: { ...NO_MODS, ...mods } };
    this.send(text === undefined ? { ...base, action: 'down' } : { ...base, action: 'down', text });
    return this.send({ ...base, action: 'up' });
  }

  /** One key press per code point, the way a keyboard delivers them. */
  type(text: string): this {
    for (const ch of text) this.key(ch);
    return this;
  }

  paste(text: string): this {
    return this.send({ type: 'paste', text });
  }

  pointer(action: 'down' | 'move' | 'up', x: number, y: number, opts: { shift?: boolean; detail?: number } = {}): this {
    const buttons = action === 'up' ? 0 : 1;
    const event: InputEvent = {
      type: 'pointer',
      action,
      x,
      y,
      button: 0,
      buttons,
      mods: { ...NO_MODS, shift: opts.shift ?? false },
      ...(opts.detail === undefined ? {} : { detail: opts.detail }),
    };
    return this.send(event);
  }

  /** Screen coordinates of the caret position `offset` (middle of its line). */
  pointAt(offset: number): { x: number; y: number } {
    const layout = layoutOf(this.state);
    const line = lineIndexAt(layout, offset);
    return {
      x: MARGIN_X_PX + xAtOffset(layout, line, offset, widthOf) / UNITS_PER_PX,
      y: lineTop(line) - this.state.scrollY + LINE_HEIGHT_PX / 2,
    };
  }

  get text(): string {
    return this.state.text;
  }

  get selection(): [number, number] {
    return [this.state.anchor, this.state.caret];
  }
}

describe('writer editing', () => {
  test('typing inserts at the caret', () => {
    const s = new Session().type('Hello');
    assert.equal(s.text, 'Hello');
    assert.equal(s.state.caret, 5);
    s.key('ArrowLeft').key('ArrowLeft').type('XY');
    assert.equal(s.text, 'HelXYlo');
    assert.equal(s.state.caret, 5);
  });

  test('non-ASCII: accents, composed text, CJK and emoji', () => {
    const s = new Session();
    s.key('é').key('Dead', {}, '').key('u', {}, 'ü').key('中').key('😀').type('文');
    assert.equal(s.text, 'éü中😀文');
    assert.equal(s.state.caret, s.text.length);
    assert.equal(countText(s.text).characters, 5);
  });

  test('keys with Ctrl or Meta are commands, not text; AltGr (Ctrl+Alt) types', () => {
    const s = new Session().type('ab');
    s.key('b', { ctrl: true }).key('s', { meta: true });
    assert.equal(s.text, 'ab');
    s.key('@', { ctrl: true, alt: true });
    assert.equal(s.text, 'ab@');
    s.key('Shift', { shift: true }).key('F5');
    assert.equal(s.text, 'ab@');
  });

  test('backspace removes a whole surrogate pair / cluster, never half of one', () => {
    const s = new Session().type('a😀');
    assert.equal(s.text.length, 3);
    s.key('Backspace');
    assert.equal(s.text, 'a');
    s.type('e\u0301').type('👍🏽');
    s.key('Backspace');
    assert.equal(s.text, 'ae\u0301');
    s.key('Backspace');
    assert.equal(s.text, 'a');
    s.key('Backspace').key('Backspace');
    assert.equal(s.text, '');
    assert.equal(s.state.caret, 0);
  });

  test('arrow keys step over emoji as one character', () => {
    const s = new Session().type('x😀y');
    s.key('ArrowLeft').key('ArrowLeft');
    assert.equal(s.state.caret, 1);
    s.key('ArrowRight');
    assert.equal(s.state.caret, 3);
  });

  test('delete removes the character after the caret', () => {
    const s = new Session().type('abc😀d');
    s.key('Home', { ctrl: true }).key('Delete');
    assert.equal(s.text, 'bc😀d');
    s.key('ArrowRight').key('ArrowRight').key('Delete');
    assert.equal(s.text, 'bcd');
    s.key('End', { ctrl: true }).key('Delete');
    assert.equal(s.text, 'bcd');
  });

  test('enter splits paragraphs; up/down keep the goal column', () => {
    const s = new Session().type('abcdefgh').key('Enter').type('ab').key('Enter').type('abcdefgh');
    assert.equal(s.text, 'abcdefgh\nab\nabcdefgh');
    s.key('ArrowLeft').key('ArrowLeft'); // caret after "abcdef" on line 3
    assert.equal(s.state.caret, 18);
    s.key('ArrowUp');
    assert.equal(s.state.caret, 11, 'short line: clamps to its end');
    s.key('ArrowUp');
    assert.equal(s.state.caret, 6, 'goal column restored on the long line');
    s.key('ArrowDown').key('ArrowDown');
    assert.equal(s.state.caret, 18);
    s.key('ArrowDown');
    assert.equal(s.state.caret, s.text.length, 'down on the last line goes to the end');
    s.key('ArrowUp', {}).key('ArrowUp').key('ArrowUp');
    assert.equal(s.state.caret, 0, 'up on the first line goes to the start');
  });

  test('home/end work on the line, ctrl+home/end on the document', () => {
    const s = new Session().type('first line').key('Enter').type('second line');
    s.key('ArrowLeft').key('ArrowLeft').key('Home');
    assert.equal(s.state.caret, 11);
    s.key('End');
    assert.equal(s.state.caret, s.text.length);
    s.key('ArrowUp').key('End');
    assert.equal(s.state.caret, 10);
    s.key('Home', { ctrl: true });
    assert.equal(s.state.caret, 0);
    s.key('End', { ctrl: true });
    assert.equal(s.state.caret, s.text.length);
  });

  test('ctrl+a selects all; typing over a selection replaces it', () => {
    const s = new Session().type('some text').key('Enter').type('more');
    s.key('a', { ctrl: true });
    assert.deepEqual(s.selection, [0, s.text.length]);
    assert.equal(writerApp.copyText?.(s.state), 'some text\nmore');
    s.type('X');
    assert.equal(s.text, 'X');
    assert.equal(writerApp.copyText?.(s.state), null);
  });

  test('shift extends the selection with arrows and home/end', () => {
    const s = new Session().type('hello world');
    s.key('ArrowLeft', { shift: true }).key('ArrowLeft', { shift: true });
    assert.deepEqual(s.selection, [11, 9]);
    assert.equal(writerApp.copyText?.(s.state), 'ld');
    s.key('Home', { shift: true });
    assert.equal(writerApp.copyText?.(s.state), 'hello world');
    s.key('ArrowRight');
    assert.deepEqual(s.selection, [11, 11], 'right without shift collapses to the end');
    s.key('Home').key('End', { shift: true });
    assert.equal(writerApp.copyText?.(s.state), 'hello world');
    s.key('Backspace');
    assert.equal(s.text, '');
  });

  test('ctrl+left/right jump by words; ctrl+backspace deletes a word', () => {
    const s = new Session().type('one two, three');
    s.key('ArrowLeft', { ctrl: true });
    assert.equal(s.state.caret, 9);
    s.key('ArrowLeft', { ctrl: true }).key('ArrowLeft', { ctrl: true });
    assert.equal(s.state.caret, 4);
    s.key('ArrowRight', { ctrl: true, shift: true });
    assert.equal(writerApp.copyText?.(s.state), 'two');
    s.key('ArrowLeft').key('ArrowLeft', { ctrl: true });
    assert.equal(s.state.caret, 0);
    s.key('End').key('Backspace', { ctrl: true });
    assert.equal(s.text, 'one two, ');
  });

  test('tab inserts spaces', () => {
    const s = new Session().key('Tab').type('x');
    assert.equal(s.text, '    x');
  });

  test('key-up events, release-all and unknown keys change nothing', () => {
    const s = new Session().type('abc');
    const before = writerApp.snapshot(s.state);
    s.send({ type: 'key', action: 'up', key: 'x', code: 'KeyX', mods: NO_MODS });
    s.send({ type: 'release-all' });
    s.key('Escape').key('F1').key('Dead');
    assert.deepEqual(writerApp.snapshot(s.state), before);
  });
});

describe('writer paste', () => {
  test('paste inserts text and normalizes line endings and controls', () => {
    const s = new Session().type('[]').key('ArrowLeft');
    s.paste('a\r\nb\rc\u0000\u0007d\te');
    assert.equal(s.text, '[a\nb\ncd    e]');
    assert.equal(s.state.caret, s.text.length - 1);
  });

  test('an empty paste or a bare control character keeps the selection', () => {
    const s = new Session().type('keep me').key('a', { ctrl: true });
    s.paste('').key('Unidentified', {}, '\u0007');
    assert.equal(s.text, 'keep me');
    assert.equal(writerApp.copyText?.(s.state), 'keep me');
  });

  test('paste replaces the selection', () => {
    const s = new Session().type('hello world');
    s.key('ArrowLeft', { ctrl: true, shift: true }).paste('there');
    assert.equal(s.text, 'hello there');
  });
});

function linesOf(layout: Layout): VisualLine[] {
  return Array.from({ length: layout.lineCount }, (_, i) => layout.line(i));
}

/** The visual lines of `text` wrapped from scratch, paragraph by paragraph. */
function referenceLines(text: string, wrap: number): VisualLine[] {
  const lines: VisualLine[] = [];
  let p = 0;
  for (const para of text.split('\n')) {
    const starts = wrapParagraph(para, wrap, widthOf);
    starts.forEach((s, k) => {
      const next = starts[k + 1];
      lines.push({ start: p + s, end: p + (next ?? para.length), hard: next === undefined });
    });
    p += para.length + 1;
  }
  return lines;
}

describe('writer word wrap', () => {
  const paragraph =
    'The quick brown fox jumps over the lazy dog while the patient writer keeps typing sentence after sentence ' +
    'until the paragraph is far too long for a single line of this narrow page. ';

  test('a long paragraph wraps into several visual lines within the width', () => {
    const s = new Session(400, 400).paste(paragraph.repeat(2));
    const layout = layoutOf(s.state);
    const wrap = wrapWidthOf(400);
    const lines = linesOf(layout);
    assert.ok(lines.length >= 5, `expected several lines, got ${lines.length}`);
    for (let i = 0; i < lines.length; i++) {
      const line = lines[i];
      assert.ok(line);
      const content = s.text.slice(line.start, line.end).trimEnd();
      const width = [...content].reduce((w, ch) => w + widthOf(ch), 0);
      assert.ok(width <= wrap, `line ${i} is ${width} units wide, more than ${wrap}`);
      if (!line.hard) {
        // Soft breaks fall after spaces, never inside a word.
        assert.equal(s.text[line.end - 1], ' ');
      }
    }
    assert.equal(lines.at(-1)?.end, s.text.length);
  });

  test('a word longer than the line is broken', () => {
    const s = new Session(200, 300).type('x').key('Enter').paste('a'.repeat(200));
    const lines = linesOf(layoutOf(s.state));
    assert.ok(lines.length >= 4);
    const wrap = wrapWidthOf(200);
    for (const line of lines) assert.ok((line.end - line.start) * widthOf('a') <= wrap);
    assert.equal(
      lines.slice(1).reduce((n, l) => n + l.end - l.start, 0),
      200,
    );
  });

  test('resize rewraps the text', () => {
    const s = new Session(400, 600).paste(paragraph);
    const narrow = layoutOf(s.state).lineCount;
    s.send({ type: 'resize', width: 1200, height: 600 });
    assert.equal(s.state.width, 1200);
    assert.deepEqual(writerApp.viewport(s.state), { width: 1200, height: 600 });
    const wide = layoutOf(s.state).lineCount;
    assert.ok(wide < narrow, `wider page should need fewer lines (${wide} vs ${narrow})`);
  });
});

describe('writer mouse selection', () => {
  test('press, drag and release selects the range under the pointer', () => {
    const s = new Session().type('alpha beta gamma delta');
    const from = s.pointAt(6);
    const to = s.pointAt(16);
    s.pointer('down', from.x + 1, from.y)
      .pointer('move', (from.x + to.x) / 2, from.y)
      .pointer('move', to.x + 1, to.y)
      .pointer('up', to.x + 1, to.y);
    assert.equal(writerApp.copyText?.(s.state), 'beta gamma');
    assert.equal(s.state.drag, 'none');
    // Moving without a held button after release does not change the selection.
    s.send({ type: 'pointer', action: 'move', x: 5, y: to.y, button: 0, buttons: 0, mods: NO_MODS });
    assert.equal(writerApp.copyText?.(s.state), 'beta gamma');
  });

  test('a click places the caret; shift+click extends', () => {
    const s = new Session().type('alpha beta gamma');
    const p = s.pointAt(3);
    s.pointer('down', p.x, p.y).pointer('up', p.x, p.y);
    assert.deepEqual(s.selection, [3, 3]);
    const q = s.pointAt(10);
    s.pointer('down', q.x, q.y, { shift: true }).pointer('up', q.x, q.y);
    assert.equal(writerApp.copyText?.(s.state), 'ha beta');
  });

  test('clicking below the text puts the caret at the end', () => {
    const s = new Session().type('short');
    s.pointer('down', 600, 300).pointer('up', 600, 300);
    assert.equal(s.state.caret, 5);
  });

  test('double-click selects a word, triple-click a paragraph', () => {
    const s = new Session().type('first line').key('Enter').type('one two three');
    const p = s.pointAt(16);
    s.pointer('down', p.x + 2, p.y, { detail: 1 }).pointer('up', p.x + 2, p.y);
    s.pointer('down', p.x + 2, p.y, { detail: 2 });
    assert.equal(writerApp.copyText?.(s.state), 'two');
    // A jittery move while the button is still held keeps the word.
    s.pointer('move', p.x + 3, p.y).pointer('up', p.x + 3, p.y);
    assert.equal(writerApp.copyText?.(s.state), 'two');
    s.pointer('down', p.x + 2, p.y, { detail: 3 }).pointer('up', p.x + 2, p.y);
    assert.equal(writerApp.copyText?.(s.state), 'one two three');
  });

  test('a click in the status bar does nothing', () => {
    const s = new Session(800, 600).type('abc');
    s.key('Home');
    s.pointer('down', 700, 595).pointer('up', 700, 595);
    assert.equal(s.state.caret, 0);
  });
});

describe('writer scrolling and status', () => {
  test('many Enters scroll so the caret stays visible; wheel scrolls the view only', () => {
    const s = new Session(800, 400);
    for (let i = 0; i < 60; i++) s.type(`line ${i}`).key('Enter');
    const visible = (): boolean => {
      const line = lineIndexAt(layoutOf(s.state), s.state.caret);
      const top = lineTop(line) - s.state.scrollY;
      return top >= 0 && top + LINE_HEIGHT_PX <= textAreaHeight(s.state);
    };
    assert.ok(s.state.scrollY > 0);
    assert.ok(visible());
    const caret = s.state.caret;
    s.send({ type: 'wheel', x: 100, y: 100, dx: 0, dy: -500, mods: NO_MODS });
    assert.equal(s.state.caret, caret);
    assert.ok(!visible());
    s.send({ type: 'wheel', x: 100, y: 100, dx: 0, dy: -100_000, mods: NO_MODS });
    assert.equal(s.state.scrollY, 0, 'clamped at the top');
    s.type('z');
    assert.ok(visible(), 'typing scrolls back to the caret');
    s.key('Home', { ctrl: true });
    assert.equal(s.state.scrollY, 0);
  });

  test('word count, character count and line:column', () => {
    assert.deepEqual(countText(''), { words: 0, characters: 0 });
    assert.deepEqual(countText("Hello, world! It's  me.\nNew — line 😀"), { words: 7, characters: 35 });
    assert.deepEqual(countText('中文 ok'), { words: 3, characters: 5 });
    assert.deepEqual(new TextIndex('ab\ncd😀e').lineColumnAt(8), { line: 2, column: 5 });
    assert.deepEqual(new TextIndex('ab\ncd').lineColumnAt(0), { line: 1, column: 1 });
    assert.equal(new TextIndex('ab\ncd😀e\n\nf').clusterCount(1, 11), 9);
  });

  test('an index updated edit by edit equals one built from the text: counts, lines, positions', () => {
    const rnd = prng(18);
    const pool = ['a', 'b ', ' ', '\n', '\n\n', '中', '😀', 'e\u0301', "'", '—', 'word ', 'long '.repeat(30)];
    // Mostly edits inside long paragraphs: a paragraph is re-wrapped only from near the edit (text-index.ts).
    pool.push('x', ' ', 'y', '\u0301', '-', 'z'.repeat(45), 'abc def ghi ', '🇫🇷', '中文中文');
    const wrap = wrapWidthOf(300);
    let text = '';
    const index = new TextIndex(text);
    index.layout(wrap, widthOf);
    for (let i = 0; i < 1500; i++) {
      const at = Math.floor(rnd() * (text.length + 1));
      const piece = pool[Math.floor(rnd() * pool.length)] ?? 'a';
      // Inserts mostly, some deletions and replacements: paragraphs change, split and merge.
      const removed = rnd() < 0.6 ? 0 : Math.min(text.length - at, Math.floor(rnd() * (rnd() < 0.7 ? 4 : 40)));
      const inserted = rnd() < 0.15 ? '' : piece;
      const expected = text.slice(0, at) + inserted + text.slice(at + removed);
      // Half the edits as the writer makes them (splice, then edit with its text), half from a text made apart.
      const spliced = i % 2 === 0 ? index.splice(at, at + removed, inserted) : null;
      if (spliced) assert.equal(spliced.whole, expected);
      text = spliced?.whole ?? expected;
      index.edit(text, { from: at, removed, inserted: inserted.length });
      const fresh = new TextIndex(text);
      const label = JSON.stringify(text.slice(0, 80));
      assert.deepEqual(index.counts(), countText(text), label);
      assert.deepEqual(index.counts(), fresh.counts(), label);
      const layout = index.layout(wrap, widthOf);
      const lines = referenceLines(text, wrap);
      assert.deepEqual(linesOf(layout), lines, label);
      for (const offset of [0, at, Math.floor(rnd() * (text.length + 1)), text.length]) {
        const lineOf = lines.findLastIndex((l) => l.start <= offset);
        assert.equal(layout.lineIndexAt(offset), Math.max(0, lineOf), `${label} @${offset}`);
        const b = snapToBoundary(text, offset);
        const lineStart = text.lastIndexOf('\n', b - 1) + 1;
        const line = text.slice(0, b).split('\n').length;
        assert.deepEqual(index.lineColumnAt(b), { line, column: clusterCount(text, lineStart, b) + 1 });
        const a = snapToBoundary(text, Math.floor(rnd() * (b + 1)));
        assert.equal(index.clusterCount(a, b), clusterCount(text, a, b), `${label} [${a}, ${b})`);
      }
    }
  });
});

describe('writer cost', () => {
  test('keys in a long document read only the paragraphs they touch, never the whole text', () => {
    const s = new Session(1280, 720);
    const para = 'Some prose that goes on for a while, with words and commas. '.repeat(12);
    for (let i = 0; i < 40; i++) s.paste(`${para}\n${para}\n`);
    const reads = (): number => textIndexOf(s.state).wholeTextReads;
    const pixels = (): void => {
      writerApp.render(s.state, createCanvas(1280, 720).getContext('2d'));
      writerApp.stateDigest?.(s.state);
    };
    pixels();
    const before = reads();
    // Typing at the end, deleting, moving by clusters and words, a new paragraph and typing in it, drawing.
    s.type('typed at the end');
    s.key('Backspace').key('Backspace').key('ArrowLeft').key('ArrowLeft', { ctrl: true }).type('x');
    s.key('Enter').type('a new paragraph').key('Delete').key('ArrowRight', { ctrl: true });
    s.key('Backspace', { ctrl: true });
    pixels();
    assert.equal(reads(), before, 'no key read the whole text');
    // The first edit in another paragraph slices the text once; typing on there does not.
    s.key('ArrowUp').type('y').type('yy');
    assert.equal(reads(), before + 1);
    s.key('Home', { ctrl: true }).type('top');
    s.type(' more').key('Backspace');
    pixels();
    assert.equal(reads(), before + 2);
    const restored = writerApp.restore(writerApp.snapshot(s.state));
    assert.equal(textIndexOf(restored).paragraphCount, textIndexOf(s.state).paragraphCount);
    assert.deepEqual(restored, s.state, 'the text built from paragraphs round-trips');
    assert.match(s.text, /^top morSome prose/);
  });
});

describe('writer state digest', () => {
  const digestOf = (state: WriterState): string => Buffer.from(writerApp.stateDigest?.(state) ?? []).toString('hex');

  test('equal states give equal digests however they were reached; any change of state changes it', () => {
    const long = 'A paragraph of some length. '.repeat(20);
    const typed = new Session(640, 480).paste(`${long}\n`.repeat(80)).type('xyz');
    const other = new Session(640, 480).paste(`${long}\n`.repeat(79)).paste(`${long}\nxyQ`);
    other.key('Backspace').type('z');
    assert.equal(typed.text, other.text);
    assert.deepEqual(typed.state, other.state);
    assert.equal(digestOf(typed.state), digestOf(other.state), 'different edit histories, same state');
    const restored = writerApp.restore(writerApp.snapshot(typed.state));
    assert.equal(digestOf(restored), digestOf(typed.state), 'restored (a cold index) equals replayed');
    const seen = new Set([digestOf(typed.state)]);
    // Every field is covered: text in the first, a middle and the last group, caret, selection, scroll, size.
    typed.key('Home', { ctrl: true });
    seen.add(digestOf(typed.state));
    typed.type('q');
    seen.add(digestOf(typed.state));
    typed.key('ArrowRight', { shift: true });
    seen.add(digestOf(typed.state));
    typed.send({ type: 'wheel', x: 10, y: 10, dx: 0, dy: 480, mods: NO_MODS });
    seen.add(digestOf(typed.state));
    typed.send({ type: 'resize', width: 700, height: 480 });
    seen.add(digestOf(typed.state));
    typed.key('End', { ctrl: true }).key('Backspace');
    seen.add(digestOf(typed.state));
    assert.equal(seen.size, 7, 'each change gave a new digest');
    // Swapping two paragraphs keeps every paragraph digest but changes the document: the digest sees order.
    const ab = new Session().paste('first\nsecond');
    const ba = new Session().paste('second\nfirst');
    assert.notEqual(digestOf(ab.state), digestOf(ba.state));
    assert.equal(digestOf(writerApp.restore(writerApp.snapshot(ba.state))), digestOf(ba.state));
  });
});

describe('writer snapshot and render', () => {
  test('snapshot/restore round-trips and hashes are stable', () => {
    const s = new Session().type('Hé 😀 中').key('ArrowLeft', { shift: true });
    const bytes = writerApp.snapshot(s.state);
    const restored = writerApp.restore(bytes);
    assert.deepEqual(restored, s.state);
    assert.deepEqual(writerApp.snapshot(restored), bytes);
    assert.equal(stateHashOf(bytes), stateHashOf(Buffer.from(bytes)));
    assert.match(stateHashOf(bytes), /^[0-9a-f]{32}$/);
  });

  test('restore rejects malformed snapshots with clear errors', () => {
    const good = JSON.parse(writerApp.snapshot(new Session().type('a😀b').state).toString('utf8')) as Record<
      string,
      unknown
    >;
    const bad = (patch: Record<string, unknown>): Buffer => Buffer.from(JSON.stringify({ ...good, ...patch }));
    assert.throws(() => writerApp.restore(Buffer.from('{not json')), /writer snapshot: not JSON/);
    assert.throws(() => writerApp.restore(bad({ v: 99 })), /writer snapshot: v/);
    assert.throws(() => writerApp.restore(bad({ caret: 2 })), /caret is not a character boundary/);
    assert.throws(() => writerApp.restore(bad({ anchor: 50 })), /anchor is not a character boundary/);
    assert.throws(() => writerApp.restore(bad({ text: 'a\rb' })), /text holds/);
    assert.throws(() => writerApp.restore(bad({ width: 10 })), /width/);
    assert.throws(() => writerApp.restore(bad({ extra: 1 })), /writer snapshot/);
    assert.throws(() => writerApp.restore(bad({ scrollY: 1.5 })), /scrollY/);
  });

  test('a frame from the warm page cache equals one drawn from scratch, through typing, scrolling and selecting', () => {
    const pixelsOf = (state: WriterState): Buffer => {
      const canvas = createCanvas(state.width, state.height);
      writerApp.render(state, canvas.getContext('2d'));
      return canvas.toBuffer('raw');
    };
    const s = new Session(500, 300).paste('Some words to wrap across the narrow page, then more. '.repeat(60));
    const wheel = (dy: number): InputEvent => ({ type: 'wheel', x: 10, y: 10, dx: 0, dy, mods: NO_MODS });
    const steps: Array<() => void> = [
      () => s.type('abc'),
      () => s.send(wheel(-7)),
      () => s.send(wheel(-24)),
      () => s.key('ArrowUp').key('ArrowUp').type('x'),
      () => s.key('ArrowLeft', { shift: true }).key('ArrowLeft', { shift: true }),
      () => s.send(wheel(-100)),
      () => s.send(wheel(250)),
      () => s.key('PageUp'),
      () => s.key('Enter').key('Enter'),
      () => s.key('Backspace'),
      () => s.send(wheel(-2000)),
      () => s.key('End', { ctrl: true, shift: true }),
      () => s.send({ type: 'resize', width: 520, height: 310 }),
      () => s.type('y'),
    ];
    pixelsOf(s.state);
    for (const [i, step] of steps.entries()) {
      step();
      const warm = pixelsOf(s.state);
      const cold = pixelsOf(writerApp.restore(writerApp.snapshot(s.state)));
      assert.ok(warm.equals(cold), `step ${i}: the cached page differs from a fresh one`);
    }
  });

  test('render paints a white page, dark text, the caret and the status bar', () => {
    const s = new Session(640, 360).type('Hello');
    const canvas = createCanvas(640, 360);
    const ctx = canvas.getContext('2d');
    writerApp.render(s.state, ctx);
    const pixel = (x: number, y: number): number[] => [...ctx.getImageData(x, y, 1, 1).data];
    assert.deepEqual(pixel(630, 100), [255, 255, 255, 255], 'page is white');
    const caret = s.pointAt(5);
    assert.ok((pixel(Math.round(caret.x), Math.round(caret.y))[0] ?? 255) < 60, 'caret is drawn');
    const text = ctx.getImageData(MARGIN_X_PX, lineTop(0), 40, LINE_HEIGHT_PX).data;
    let dark = 0;
    for (let i = 0; i < text.length; i += 4) if ((text[i] ?? 255) < 100) dark++;
    assert.ok(dark > 20, 'text ink is drawn');
    const status = pixel(320, 358);
    assert.notDeepEqual(status, [255, 255, 255, 255], 'status bar is drawn');
  });
});
