import { test } from 'node:test';
import assert from 'node:assert/strict';
import { keyDisposition, keyInput, producedText, type KeyLike } from '../../viewer/key-mapping.js';

const k = (key: string, over: Partial<KeyLike> = {}): KeyLike => ({
  key,
  code: 'KeyA',
  shiftKey: false,
  ctrlKey: false,
  altKey: false,
  metaKey: false,
  repeat: false,
  ...over,
});

test('printable keys produce their text; named keys and accelerators do not', () => {
  assert.equal(producedText(k('a')), 'a');
  assert.equal(producedText(k('A', { shiftKey: true })), 'A');
  assert.equal(producedText(k('é')), 'é');
  assert.equal(producedText(k(' ')), ' ');
  assert.equal(producedText(k('😀')), '😀');
  assert.equal(producedText(k('Enter')), undefined);
  assert.equal(producedText(k('Dead')), undefined);
  assert.equal(producedText(k('a', { ctrlKey: true })), undefined);
  assert.equal(producedText(k('a', { metaKey: true })), undefined);
  assert.equal(producedText(k('@', { ctrlKey: true, altKey: true })), '@', 'AltGr still types');
});

test('keyInput carries key, code, text, mods and repeat', () => {
  assert.deepEqual(keyInput(k('q', { code: 'KeyA', repeat: true }), 'down'), {
    type: 'key',
    action: 'down',
    key: 'q',
    code: 'KeyA',
    text: 'q',
    mods: { shift: false, ctrl: false, alt: false, meta: false },
    repeat: true,
  });
  const up = keyInput(k('q'), 'up');
  assert.equal(up.text, undefined);
  assert.equal(up.repeat, undefined);
});

test('browser shortcuts stay with the browser; app keys do not', () => {
  assert.equal(keyDisposition(k('r', { ctrlKey: true })), 'browser');
  assert.equal(keyDisposition(k('R', { ctrlKey: true, shiftKey: true })), 'browser');
  assert.equal(keyDisposition(k('F5')), 'browser');
  assert.equal(keyDisposition(k('F12')), 'browser');
  assert.equal(keyDisposition(k('v', { ctrlKey: true })), 'browser');
  assert.equal(keyDisposition(k('v', { metaKey: true })), 'browser');
  assert.equal(keyDisposition(k('I', { ctrlKey: true, shiftKey: true })), 'browser');
  assert.equal(keyDisposition(k('Process', { isComposing: true })), 'browser');
  // Mobile keyboards report "Unidentified" (keyCode 229): their text arrives through the textarea's input events.
  assert.equal(keyDisposition(k('Unidentified', { code: '' })), 'browser');
  for (const key of ['a', 'Tab', 'Backspace', ' ', 'ArrowDown', 'PageDown', 'Escape'])
    assert.equal(keyDisposition(k(key)), 'app', key);
  assert.equal(keyDisposition(k('a', { ctrlKey: true })), 'app', 'Ctrl+A selects in the app');
  assert.equal(keyDisposition(k('z', { ctrlKey: true })), 'app');
});
