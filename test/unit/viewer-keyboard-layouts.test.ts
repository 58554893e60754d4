// Keyboard layouts end to end through the pure parts: what the browser
// reports (key, code) → the key input the viewer sends → the writer's text.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { InputEvent, KeyInput } from '../../protocol/input.js';
import { writerApp } from '../../render/apps/index.js';
import { keyDisposition, keyInput, type KeyLike } from '../../viewer/key-mapping.js';
import { viewerShortcut } from '../../viewer/viewer-shortcuts.js';
import { isCopyShortcut } from '../../viewer/clipboard-copy.js';

const ev = (key: string, code: string, over: Partial<KeyLike> = {}): KeyLike => ({
  key,
  code,
  shiftKey: false,
  ctrlKey: false,
  altKey: false,
  metaKey: false,
  repeat: false,
  ...over,
});

/** What the viewer sends for a press + release, in order. */
function press(e: KeyLike): KeyInput[] {
  assert.equal(keyDisposition(e), 'app', `${e.key} goes to the app`);
  return [keyInput(e, 'down'), keyInput(e, 'up')];
}

function typeInto(events: InputEvent[]): string {
  let state = writerApp.init({ width: 640, height: 480 });
  events.forEach((event, i) => {
    state = writerApp.apply(state, { seq: i + 1, time: 1_700_000_000_000 + i, clientId: 'c', clientSeq: i + 1, event });
  });
  return state.text;
}

test('AZERTY: KeyQ produces "a", Digit2 produces "é"; code keeps the physical key', () => {
  const a = press(ev('a', 'KeyQ'));
  assert.deepEqual(a[0], {
    type: 'key',
    action: 'down',
    key: 'a',
    code: 'KeyQ',
    text: 'a',
    mods: { shift: false, ctrl: false, alt: false, meta: false },
  });
  const e = press(ev('é', 'Digit2'));
  assert.equal(e[0]?.text, 'é');
  assert.equal(e[0]?.code, 'Digit2');
  // Shift+Digit2 on AZERTY is "2"; AltGr+Digit0 is "@" (AltGr = Ctrl+Alt).
  const two = press(ev('2', 'Digit2', { shiftKey: true }));
  const at = press(ev('@', 'Digit0', { ctrlKey: true, altKey: true }));
  assert.equal(two[0]?.text, '2');
  assert.equal(at[0]?.text, '@');
  assert.equal(typeInto([...a, ...e, ...two, ...at, ...press(ev('z', 'KeyW'))]), 'aé2@z');
});

test('dead key: "Dead" sends no text, the composed "ê" arrives as the next key and is typed once', () => {
  // French AZERTY: the ^ key (code BracketLeft) is dead; then "e" gives "ê".
  const dead = press(ev('Dead', 'BracketLeft'));
  assert.equal(dead[0]?.key, 'Dead');
  assert.equal(dead[0]?.text, undefined, '"Dead" is never sent as text');
  const composed = press(ev('ê', 'KeyE'));
  assert.equal(composed[0]?.text, 'ê');
  assert.equal(typeInto([...dead, ...composed]), 'ê');
  // A dead key followed by space types the accent itself.
  assert.equal(typeInto([...press(ev('Dead', 'BracketLeft')), ...press(ev('^', 'Space'))]), '^');
});

test('IME composition stays with the browser (its result arrives as text later)', () => {
  assert.equal(keyDisposition(ev('Process', 'KeyA', { isComposing: true })), 'browser');
});

test('viewer shortcuts: F2 and Ctrl+Shift+S toggle stats, Ctrl+Shift+F fullscreen, others are app keys', () => {
  assert.equal(viewerShortcut(ev('F2', 'F2')), 'stats');
  assert.equal(viewerShortcut(ev('S', 'KeyS', { ctrlKey: true, shiftKey: true })), 'stats');
  assert.equal(viewerShortcut(ev('F', 'KeyF', { ctrlKey: true, shiftKey: true })), 'fullscreen');
  assert.equal(viewerShortcut(ev('F', 'KeyF', { metaKey: true, shiftKey: true })), 'fullscreen');
  assert.equal(viewerShortcut(ev('f', 'KeyF')), null);
  assert.equal(viewerShortcut(ev('s', 'KeyS', { ctrlKey: true })), null, 'Ctrl+S stays the app’s');
  assert.equal(viewerShortcut(ev('F2', 'F2', { repeat: true })), null);
  assert.equal(viewerShortcut(ev('F11', 'F11')), null, 'F11 is the browser’s');
});

test('copy shortcut: Ctrl+C / Cmd+C by physical key, not Ctrl+Shift+C (devtools)', () => {
  assert.ok(isCopyShortcut(ev('c', 'KeyC', { ctrlKey: true })));
  assert.ok(isCopyShortcut(ev('c', 'KeyC', { metaKey: true })));
  assert.ok(!isCopyShortcut(ev('C', 'KeyC', { ctrlKey: true, shiftKey: true })));
  assert.ok(!isCopyShortcut(ev('c', 'KeyC')));
  // The key still goes to the app.
  assert.equal(keyDisposition(ev('c', 'KeyC', { ctrlKey: true })), 'app');
});
