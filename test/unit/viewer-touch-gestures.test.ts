import { test } from 'node:test';
import assert from 'node:assert/strict';
import { LONG_PRESS_MS, TOUCH_SLOP_PX, TouchGestures, type TouchPoint } from '../../viewer/touch-gestures.js';
import type { InputEvent } from '../../protocol/input.js';
import { writerApp } from '../../render/apps/writer/index.js';
import { AppDriver } from '../helpers/app-driver.js';

/** A fake clock: timers run when advanced past. */
function harness() {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; live: boolean }> = [];
  const sent: InputEvent[] = [];
  let caretMoves = 0;
  const g = new TouchGestures({
    send: (e) => sent.push(e),
    setTimer: (fn, ms) => {
      const t = { at: now + ms, fn, live: true };
      timers.push(t);
      return () => (t.live = false);
    },
    now: () => now,
    onCaretMoved: () => caretMoves++,
  });
  return {
    g,
    sent,
    get caretMoves() {
      return caretMoves;
    },
    advance(ms: number) {
      // A millisecond at a time, so timers a timer starts run too.
      for (const end = now + ms; now < end;) {
        now++;
        for (const t of timers) {
          if (!t.live || t.at > now) continue;
          t.live = false;
          t.fn();
        }
      }
    },
  };
}

/** Screen and app coordinates equal (scale 1) unless given. */
const pt = (x: number, y: number, scale = 1): TouchPoint => ({ x: x * scale, y: y * scale, clientX: x, clientY: y });

test('a tap is a click at the touch point and moves the caret', () => {
  const h = harness();
  h.g.down(pt(100, 50));
  h.advance(80);
  h.g.move(pt(103, 52)); // within the slop
  h.g.up(pt(103, 52));
  assert.deepEqual(
    h.sent.map((e) => (e.type === 'pointer' ? [e.action, e.x, e.y, e.detail, e.pointerType] : e.type)),
    [
      ['down', 100, 50, 1, 'touch'],
      ['up', 100, 50, 1, 'touch'],
    ],
  );
  assert.equal(h.caretMoves, 1);
  h.advance(LONG_PRESS_MS * 2);
  assert.equal(h.sent.length, 2, 'no long press after the finger lifted');
});

test('a drag past the slop scrolls: wheel inputs following the finger, no clicks', () => {
  const h = harness();
  h.g.down(pt(100, 300, 2));
  h.g.move(pt(100, 300 - TOUCH_SLOP_PX - 1, 2));
  h.g.move(pt(100, 200, 2));
  h.advance(LONG_PRESS_MS * 2);
  h.g.up(pt(100, 200, 2));
  assert.ok(h.sent.every((e) => e.type === 'wheel'));
  const dy = h.sent.reduce((s, e) => s + (e.type === 'wheel' ? e.dy : 0), 0);
  assert.equal(dy, 200, 'finger up 100 screen px at scale 2 = 200 app px scrolled down');
  assert.equal(h.caretMoves, 0);
});

test('a fast release keeps scrolling, slower and slower; a new touch stops it', () => {
  const h = harness();
  h.g.down(pt(100, 400));
  for (let i = 1; i <= 8; i++) {
    h.advance(10);
    h.g.move(pt(100, 400 - i * 20)); // 2 px/ms upwards
  }
  h.g.up(pt(100, 240));
  const dragged = h.sent.length;
  h.advance(100);
  const fling = h.sent.slice(dragged).map((e) => (e.type === 'wheel' ? e.dy : NaN));
  assert.ok(fling.length >= 2, `fling steps: ${fling.length}`);
  for (let i = 1; i < fling.length; i++) assert.ok((fling[i] ?? 0) < (fling[i - 1] ?? 0), 'slowing down');
  assert.ok(
    fling.every((dy) => dy > 0),
    'in the direction of the drag',
  );
  const caught = h.sent.length;
  h.g.down(pt(100, 240)); // the finger catches it…
  h.g.up(pt(100, 240)); // …and lifting it is no tap
  h.advance(2000);
  assert.equal(h.sent.length, caught, 'nothing after the catch');

  // It also stops by itself.
  const slow = harness();
  slow.g.down(pt(100, 400));
  for (let i = 1; i <= 8; i++) {
    slow.advance(10);
    slow.g.move(pt(100, 400 - i * 20));
  }
  slow.g.up(pt(100, 240));
  slow.advance(5000);
  const n = slow.sent.length;
  slow.advance(5000);
  assert.equal(slow.sent.length, n);
  const flung = slow.sent.reduce((sum, e) => sum + (e.type === 'wheel' ? e.dy : 0), 0) - 160;
  assert.ok(flung > 100 && flung < 2000, `flung ${flung} px after a 160 px drag`);
});

test('a long press selects the word; dragging after it extends; lifting ends it', () => {
  const h = harness();
  h.g.down(pt(40, 30));
  h.advance(LONG_PRESS_MS);
  h.g.move(pt(200, 30));
  h.g.up(pt(200, 30));
  assert.deepEqual(
    h.sent.map((e) => (e.type === 'pointer' ? [e.action, e.buttons, e.detail] : e.type)),
    [
      ['down', 1, 2],
      ['move', 1, undefined],
      ['up', 0, 2],
    ],
  );
});

test('cancel (a second finger) drops a pending tap and ends a selection drag', () => {
  const h = harness();
  h.g.down(pt(10, 10));
  h.g.cancel();
  h.advance(LONG_PRESS_MS * 2);
  h.g.up(pt(10, 10));
  assert.equal(h.sent.length, 0);
  h.g.down(pt(10, 10));
  h.advance(LONG_PRESS_MS);
  h.g.cancel();
  assert.deepEqual(
    h.sent.map((e) => (e.type === 'pointer' ? e.action : e.type)),
    ['down', 'up'],
  );
});

test('on the writer: long press picks a word, a tap places the caret, a drag scrolls', () => {
  const w = new AppDriver(writerApp, 320, 200);
  w.send({ type: 'paste', text: `hello brave new world\n${'line\n'.repeat(40)}` });
  // Back to the top (the paste scrolled to its end).
  w.send({
    type: 'key',
    action: 'down',
    key: 'Home',
    code: 'Home',
    mods: { shift: false, ctrl: true, alt: false, meta: false },
  });
  const h = harness();
  // First line: y 20..44 from the top margin; "brave" starts at x ≈ 32 + width("hello ").
  h.g.down(pt(90, 30));
  h.advance(LONG_PRESS_MS);
  h.g.up(pt(90, 30));
  h.g.down(pt(33, 30));
  h.g.up(pt(33, 30));
  for (const e of h.sent.splice(0, 2)) w.send(e);
  assert.equal(
    w.state.text.slice(Math.min(w.state.anchor, w.state.caret), Math.max(w.state.anchor, w.state.caret)),
    'brave',
  );
  for (const e of h.sent.splice(0)) w.send(e);
  assert.equal(w.state.caret, w.state.anchor);
  assert.equal(w.state.caret, 0);
  const before = w.state.scrollY;
  h.g.down(pt(100, 150));
  h.g.move(pt(100, 60));
  h.g.up(pt(100, 60));
  for (const e of h.sent.splice(0)) w.send(e);
  assert.ok(w.state.scrollY > before, `scrolled from ${before} to ${w.state.scrollY}`);
  assert.equal(w.state.caret, 0, 'scrolling does not move the caret');
});
