// Selection handles, the pure parts: the writer's reported geometry, its
// mapping to the screen through viewer/coords.ts, what a handle drag sends
// (applied to a real writer, which must end with the expected selection), and
// the server's rule for which reports reach viewers.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { parseSelectionGeometry, type SelectionGeometry } from '../../protocol/selection.js';
import { writerApp } from '../../render/apps/index.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import { lineIndexAt, xAtOffset } from '../../render/apps/writer/layout.js';
import { UNITS_PER_PX } from '../../render/apps/writer/measure.js';
import { layoutOf, LINE_HEIGHT_PX, lineTop, MARGIN_X_PX, widthOf } from '../../render/apps/writer/view.js';
import { noteSelection, type SelectionAt } from '../../server/session-core/selection-relay.js';
import { mapFromApp, mapToApp } from '../../viewer/coords.js';
import { caretPoint, HANDLE_TARGET_PX, HandleDrag, placeHandles } from '../../viewer/handle-drag.js';
import { AppDriver } from '../helpers/app-driver.js';

const TEXT = 'alpha beta gamma delta\nsecond line here';

function writer(width = 600, height = 400): AppDriver<WriterState> {
  const d = new AppDriver(writerApp, width, height);
  d.send({ type: 'paste', text: TEXT });
  return d;
}

/** Screen point (middle of the line) of the caret at `offset`, from the writer's own layout. */
function pointAt(s: WriterState, offset: number): { x: number; y: number } {
  const layout = layoutOf(s);
  const line = lineIndexAt(layout, offset);
  return {
    x: MARGIN_X_PX + xAtOffset(layout, line, offset, widthOf) / UNITS_PER_PX,
    y: lineTop(line) - s.scrollY + LINE_HEIGHT_PX / 2,
  };
}

function longPress(d: AppDriver<WriterState>, offset: number): void {
  const p = pointAt(d.state, offset);
  const pointer = (action: 'down' | 'up', buttons: number): InputEvent => ({
    type: 'pointer',
    action,
    x: p.x + 2,
    y: p.y,
    button: 0,
    buttons,
    mods: { ...NO_MODS },
    pointerType: 'touch',
    detail: 2,
  });
  d.send(pointer('down', 1)).send(pointer('up', 0));
}

function geometryOf(d: AppDriver<WriterState>): SelectionGeometry {
  const g = parseSelectionGeometry(writerApp.selectionGeometry?.(d.state));
  assert.ok(g, 'the writer reports geometry for a selection');
  return g;
}

function selected(s: WriterState): string {
  return s.text.slice(Math.min(s.anchor, s.caret), Math.max(s.anchor, s.caret));
}

describe('the writer reports its selection geometry', () => {
  test('none without a selection, the caret rectangles of both ends with one', () => {
    const d = writer();
    assert.equal(writerApp.selectionGeometry?.(d.state), null);
    longPress(d, TEXT.indexOf('beta'));
    assert.equal(selected(d.state), 'beta');
    const g = geometryOf(d);
    const at = (offset: number) => ({
      x: Math.round(pointAt(d.state, offset).x),
      y: lineTop(lineIndexAt(layoutOf(d.state), offset)),
      height: LINE_HEIGHT_PX,
    });
    assert.deepEqual(g, { anchor: at(TEXT.indexOf('beta')), focus: at(TEXT.indexOf('beta') + 4) });
  });

  test('scrolling moves it with the text; ends out of view are still reported', () => {
    const d = new AppDriver(writerApp, 400, 200);
    d.send({ type: 'paste', text: 'word\n'.repeat(40) });
    d.send({ type: 'key', action: 'down', key: 'a', code: 'KeyA', mods: { ...NO_MODS, ctrl: true } });
    const g = geometryOf(d);
    assert.ok(d.state.scrollY > 0);
    assert.equal(g.anchor.y, lineTop(0) - d.state.scrollY, 'the start is above the surface');
    assert.ok(g.anchor.y < 0);
  });

  test('a malformed or out-of-range answer counts as none', () => {
    assert.equal(parseSelectionGeometry({ anchor: { x: 1, y: 2, height: 3 } }), null);
    assert.equal(
      parseSelectionGeometry({ anchor: { x: 1, y: 2, height: 3 }, focus: { x: 1e9, y: 0, height: 3 } }),
      null,
    );
    assert.equal(parseSelectionGeometry('x'), null);
    const ok = { anchor: { x: 1, y: -2, height: 24 }, focus: { x: 5, y: 30, height: 24 } };
    assert.deepEqual(parseSelectionGeometry(ok), ok);
  });
});

describe('handles on screen', () => {
  const geometry: SelectionGeometry = { anchor: { x: 100, y: 44, height: 24 }, focus: { x: 40, y: 20, height: 24 } };

  test('surface pixels map to the stage box and back through coords.ts', () => {
    const box = { left: 10, top: 50, width: 640, height: 360 };
    const app = { width: 1280, height: 720 };
    const s = mapFromApp(300, 200, box, app, { extraRows: 0, fit: 'fill' });
    assert.deepEqual(s, { clientX: 160, clientY: 150 });
    assert.deepEqual(mapToApp(s.clientX, s.clientY, box, app, { extraRows: 0, fit: 'fill' }), {
      x: 300,
      y: 200,
      inside: true,
    });
  });

  test('start and end in reading order, at the caret x and the line bottom, scaled', () => {
    const [start, end] = placeHandles(
      geometry,
      { left: 500, top: 500, width: 200, height: 100 },
      { width: 400, height: 200 },
    );
    assert.deepEqual(start, { end: 'focus', x: 20, lineBottom: 22, visible: true });
    assert.deepEqual(end, { end: 'anchor', x: 50, lineBottom: 34, visible: true });
  });

  test('an end outside the surface has no visible handle', () => {
    const off: SelectionGeometry = { anchor: { x: 40, y: -30, height: 24 }, focus: { x: 40, y: 20, height: 24 } };
    const [start, end] = placeHandles(off, { left: 0, top: 0, width: 400, height: 200 }, { width: 400, height: 200 });
    assert.equal(start.visible, false);
    assert.equal(end.visible, true);
    assert.ok(HANDLE_TARGET_PX >= 44);
  });
});

describe('dragging a handle sends inputs the writer understands', () => {
  test('the end (focus) handle: shift+press at it, drag, lift; the anchor stays', () => {
    const d = writer();
    longPress(d, TEXT.indexOf('beta'));
    const g = geometryOf(d);
    const sent: InputEvent[] = [];
    // The finger grabs the knob 20 px below the caret line's middle.
    const grab = { x: g.focus.x, y: caretPoint(g.focus).y + 20 };
    const drag = new HandleDrag(g, 'focus', grab, (e) => sent.push(e));
    assert.equal(sent.length, 1);
    assert.deepEqual(sent[0], {
      type: 'pointer',
      action: 'down',
      ...caretPoint(g.focus),
      button: 0,
      buttons: 1,
      mods: { ...NO_MODS, shift: true },
      pointerType: 'touch',
      detail: 1,
    });
    const target = pointAt(d.state, TEXT.indexOf('delta') + 5);
    drag.move({ x: target.x + 3, y: target.y + 20 });
    drag.finish();
    drag.move({ x: 0, y: 0 }); // nothing after the lift
    assert.deepEqual(
      sent.map((e) => (e.type === 'pointer' ? e.action : e.type)),
      ['down', 'move', 'up'],
    );
    for (const e of sent) d.send(e);
    assert.equal(selected(d.state), 'beta gamma delta');
    assert.equal(d.state.anchor, TEXT.indexOf('beta'), 'the anchor did not move');
  });

  test('the start (anchor) handle: press at the focus, drag from the anchor; the other end stays', () => {
    const d = writer();
    longPress(d, TEXT.indexOf('gamma'));
    const g = geometryOf(d);
    const sent: InputEvent[] = [];
    const drag = new HandleDrag(g, 'anchor', { x: g.anchor.x, y: caretPoint(g.anchor).y + 20 }, (e) => sent.push(e));
    // The selection is the same after the press and the first move (reversed): no visible jump.
    const probe = new AppDriver(writerApp, 600, 400);
    probe.state = writerApp.restore(writerApp.snapshot(d.state));
    for (const e of sent) probe.send(e);
    assert.equal(selected(probe.state), 'gamma');
    const target = pointAt(d.state, TEXT.indexOf('alpha'));
    drag.move({ x: target.x, y: target.y + 20 });
    drag.finish();
    for (const e of sent) d.send(e);
    assert.equal(selected(d.state), 'alpha beta gamma');
    assert.equal(d.state.anchor, TEXT.indexOf('gamma') + 5, 'the end stayed put');
  });

  test('onto the next line', () => {
    const d = writer();
    longPress(d, TEXT.indexOf('delta'));
    const g = geometryOf(d);
    const sent: InputEvent[] = [];
    const drag = new HandleDrag(g, 'focus', { x: g.focus.x, y: caretPoint(g.focus).y }, (e) => sent.push(e));
    const target = pointAt(d.state, TEXT.indexOf('line'));
    drag.move(target);
    drag.finish();
    for (const e of sent) d.send(e);
    assert.equal(selected(d.state), 'delta\nsecond ');
  });
});

describe('the server forwards geometry only when it changes at a newer seq', () => {
  const g1: SelectionGeometry = { anchor: { x: 1, y: 2, height: 24 }, focus: { x: 9, y: 2, height: 24 } };
  const g2: SelectionGeometry = { anchor: { x: 1, y: 2, height: 24 }, focus: { x: 19, y: 2, height: 24 } };

  test('first report, changes, repeats and lies', () => {
    const r: { selection?: SelectionAt } = {};
    assert.equal(noteSelection(r, 5, null), false, 'nothing to say about no selection at first');
    assert.equal(noteSelection(r, 6, g1), true);
    assert.equal(noteSelection(r, 6, g1), false, 'a repeat');
    assert.equal(noteSelection(r, 7, g1), false, 'unchanged at a newer seq');
    assert.equal(noteSelection(r, 7, g2), false, 'changed at the same seq: the state did not change, a lie');
    assert.equal(noteSelection(r, 3, g2), false, 'an older seq');
    assert.deepEqual(r.selection, { seq: 7, geometry: g1 });
    assert.equal(noteSelection(r, 8, g2), true);
    assert.equal(noteSelection(r, 9, null), true, 'the selection went away');
  });
});
