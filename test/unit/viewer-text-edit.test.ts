// Soft-keyboard edits: the textarea diff (text-edit.ts) replayed as the key
// presses the viewer sends (key-mapping.ts), applied to the real writer app.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diffTextarea, graphemes, type TextareaState } from '../../viewer/text-edit.js';
import { editInputs, LONG_INSERT_GRAPHEMES, textTaps } from '../../viewer/key-mapping.js';
import { InputEventSchema } from '../../protocol/input.js';
import { LIMITS } from '../../protocol/limits.js';
import { writerApp } from '../../render/apps/index.js';
import { AppDriver } from '../helpers/app-driver.js';
import { prng } from '../helpers/prng.js';

const at = (value: string, caret = value.length): TextareaState => ({ value, caret });

/** Feeds a sequence of textarea states to the writer and returns its text and caret. */
function typeThrough(states: TextareaState[], prefix = ''): { text: string; caret: number } {
  const w = new AppDriver(writerApp, 640, 480);
  for (const e of textTaps(prefix)) w.send(e);
  let prev = at('');
  for (const s of states) {
    const edit = diffTextarea(prev, s);
    prev = s;
    if (!edit) continue;
    for (const e of editInputs(edit)) w.send(InputEventSchema.parse(e));
  }
  return { text: w.state.text, caret: w.state.caret };
}

test('plain typing is insertion at the caret', () => {
  assert.deepEqual(diffTextarea(at('he'), at('hel')), {
    deleteBackward: 0,
    deleteForward: 0,
    insert: 'l',
    caretMove: 0,
  });
  assert.equal(diffTextarea(at('same'), at('same')), null);
});

test('an autocorrect replacement before the caret becomes backspaces plus the new word', () => {
  // "teh " → "the ": the unchanged tail may not reach left of the caret.
  assert.deepEqual(diffTextarea(at('I saw teh '), at('I saw the ')), {
    deleteBackward: 3,
    deleteForward: 0,
    insert: 'he ',
    caretMove: 0,
  });
  assert.deepEqual(typeThrough([at('I saw t'), at('I saw te'), at('I saw teh'), at('I saw teh '), at('I saw the ')]), {
    text: 'I saw the ',
    caret: 10,
  });
});

test('a replacement of a word behind the caret (caret stays after it) keeps the text after', () => {
  // Predictive text rewrote "wrld" while the caret sat after a following space.
  const r = typeThrough([at('hello wrld '), at('hello world ')]);
  assert.deepEqual(r, { text: 'hello world ', caret: 12 });
});

test('an edit in the middle, with the caret inside the kept text, moves the caret back', () => {
  const edit = diffTextarea(at('abc', 1), at('aXbc', 2));
  assert.deepEqual(edit, { deleteBackward: 0, deleteForward: 0, insert: 'X', caretMove: 0 });
  // A keyboard that inserts "()" and puts the caret between them.
  assert.deepEqual(diffTextarea(at('f'), at('f()', 2)), {
    deleteBackward: 0,
    deleteForward: 0,
    insert: '()',
    caretMove: -1,
  });
  assert.deepEqual(typeThrough([at('f'), at('f()', 2), at('f(x)', 3)]), { text: 'f(x)', caret: 3 });
});

test('deletions count user-perceived characters: emoji, flags, ZWJ families, combining marks', () => {
  const family = '👨‍👩‍👧';
  assert.equal(diffTextarea(at(`a${family}`), at('a'))?.deleteBackward, 1);
  assert.equal(diffTextarea(at('x🇫🇷'), at('x'))?.deleteBackward, 1);
  assert.equal(diffTextarea(at('e\u0301'), at(''))?.deleteBackward, 1);
  assert.deepEqual(typeThrough([at('ok 👍🏽'), at('ok '), at(`ok ${family}`)]), {
    text: `ok ${family}`,
    caret: 3 + family.length,
  });
});

test('a change inside a surrogate pair never splits it', () => {
  // 😀 (D83D DE00) → 😁 (D83D DE01): same high surrogate, the edit must take the whole character.
  const edit = diffTextarea(at('😀'), at('😁'));
  assert.deepEqual(edit, { deleteBackward: 1, deleteForward: 0, insert: '😁', caretMove: 0 });
});

test('CJK composition committed at the end arrives once', () => {
  // The viewer diffs only at compositionend: the textarea went from "" to the commit.
  assert.deepEqual(typeThrough([at('日本語')]), { text: '日本語', caret: 3 });
  assert.deepEqual(
    typeThrough([at('日本語'), at('日本語')]),
    { text: '日本語', caret: 3 },
    'a second flush adds nothing',
  );
});

test('textTaps: one press per character, newline is Enter, every press is a valid input', () => {
  const taps = textTaps('a\né👍🏽');
  for (const t of taps) InputEventSchema.parse(t);
  const downs = taps.filter((t) => t.action === 'down');
  assert.deepEqual(
    downs.map((d) => [d.key, d.text]),
    [
      ['a', 'a'],
      ['Enter', undefined],
      ['é', 'é'],
      ['👍🏽', '👍🏽'],
    ],
  );
  // A cluster longer than a key may be is split by code point, nothing lost.
  const stacked = `a${'\u0301'.repeat(40)}`;
  const parts = textTaps(stacked).filter((t) => t.action === 'down');
  assert.ok(parts.length > 1);
  assert.equal(parts.map((p) => p.text).join(''), stacked);
  for (const p of parts) InputEventSchema.parse(p);
  assert.equal(graphemes(stacked).length, 1);
});

test('a long insert (clipboard suggestion, phrase) is one paste, still exactly the text', () => {
  const phrase = 'The quick brown fox jumps over the lazy dog. 🦊\nSecond line';
  assert.ok(graphemes(phrase).length > LONG_INSERT_GRAPHEMES);
  const inputs = editInputs({ deleteBackward: 1, deleteForward: 0, insert: phrase, caretMove: 0 });
  assert.deepEqual(
    inputs.map((i) => i.type),
    ['key', 'key', 'paste'],
  );
  assert.deepEqual(typeThrough([at('x'), at(`${phrase}`)]), { text: phrase, caret: phrase.length });
  // Past the paste limit: several pastes, nothing lost, each within the limit.
  const huge = 'ab'.repeat(LIMITS.maxPasteChars);
  const parts = editInputs({ deleteBackward: 0, deleteForward: 0, insert: huge, caretMove: 0 });
  assert.ok(parts.length >= 2);
  for (const p of parts) InputEventSchema.parse(p);
  assert.equal(parts.map((p) => (p.type === 'paste' ? p.text : '')).join(''), huge);
});

test('graphemes: the fast path below U+0300 splits exactly as Intl.Segmenter does', () => {
  const seg = new Intl.Segmenter(undefined, { granularity: 'grapheme' });
  const bySegmenter = (s: string) => Array.from(seg.segment(s), (g) => g.segment);
  const rnd = prng(6);
  // Every unit on its own and next to every other one is too many pairs; every unit, then random runs.
  const pick = () => String.fromCharCode(Math.floor(rnd() * 0x300));
  for (let c = 0; c < 0x300; c++) {
    const s = String.fromCharCode(c);
    assert.deepEqual(graphemes(s), bySegmenter(s), `U+${c.toString(16)}`);
  }
  for (let i = 0; i < 3000; i++) {
    const s = Array.from({ length: 1 + Math.floor(rnd() * 6) }, pick).join('');
    assert.deepEqual(graphemes(s), bySegmenter(s), JSON.stringify(s));
  }
  // Past the fast path: CR LF, a combining accent, an emoji with a modifier, a flag.
  for (const s of ['a\r\nb', 'e\u0301x', '👍🏽!', '🇫🇷', 'ab\u0300'])
    assert.deepEqual(graphemes(s), bySegmenter(s), JSON.stringify(s));
  assert.deepEqual(graphemes('a\r\nb'), ['a', '\r\n', 'b']);
});
