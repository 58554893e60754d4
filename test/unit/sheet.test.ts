// The spreadsheet: formulas with references and ranges, recalculation,
// errors, editing keys, column widths, copy and paste of ranges, snapshots.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { stateHashOf } from '../../render/app-hash.js';
import { sheetApp } from '../../render/apps/index.js';
import { computeAll, display, type SheetState } from '../../render/apps/sheet/index.js';
import { GRID_TOP, ROW_HEADER_WIDTH } from '../../render/apps/sheet/layout.js';
import { AppDriver, renderPixels } from '../helpers/app-driver.js';

const key = (k: string, mods = NO_MODS): InputEvent => ({ type: 'key', action: 'down', key: k, code: '', mods });
const typeInto = (d: AppDriver<SheetState>, text: string): void => {
  for (const ch of text) d.send(ch === '\n' ? key('Enter') : ch === '\t' ? key('Tab') : key(ch));
};
const shown = (s: SheetState, name: string): string => {
  const col = name.charCodeAt(0) - 65;
  const row = Number(name.slice(1)) - 1;
  return display(computeAll(s.cells).get(row * 26 + col));
};

test('typed numbers and formulas compute, and recalculate when a referenced cell changes', () => {
  const d = new AppDriver(sheetApp, 800, 600);
  typeInto(d, '2\n3\n=A1*A2+1\n=SUM(A1:A3)\n=AVERAGE(A1:A3)\n=MAX(A1:A2)-MIN(A1:A2)\n=ROUND(10/3,2)\n=2^10\n');
  assert.deepEqual(
    ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8'].map((n) => shown(d.state, n)),
    ['2', '3', '7', '12', '4', '1', '3.33', '1024'],
  );
  d.send(key('ArrowUp', NO_MODS));
  // Back to A1 and change it: every dependent cell follows.
  d.send(key('Home', { ...NO_MODS, ctrl: true }));
  typeInto(d, '10\n');
  assert.deepEqual(
    ['A3', 'A4'].map((n) => shown(d.state, n)),
    ['31', '44'],
  );
});

test('errors are values: division by zero, bad references, unknown functions, cycles, text in arithmetic', () => {
  const d = new AppDriver(sheetApp, 800, 600);
  typeInto(d, '=1/0\n=Z999\n=FOO(1)\n=A4\n=A5+1\nhello\n=A6*2\n=(1+\n');
  assert.deepEqual(
    ['A1', 'A2', 'A3', 'A4', 'A5', 'A6', 'A7', 'A8'].map((n) => shown(d.state, n)),
    ['#DIV/0!', '#REF!', '#NAME?', '#CYCLE!', '#CYCLE!', 'hello', '#VALUE!', '#ERR!'],
  );
});

test('Escape cancels an edit, F2 edits the existing contents, Delete clears the selection', () => {
  const d = new AppDriver(sheetApp, 800, 600);
  typeInto(d, '5\n');
  d.send(key('ArrowUp'));
  typeInto(d, '99');
  d.send(key('Escape'));
  assert.equal(shown(d.state, 'A1'), '5');
  d.send(key('F2'));
  typeInto(d, '0\n');
  assert.equal(shown(d.state, 'A1'), '50');
  d.send(key('ArrowUp'))
    .send(key('ArrowDown', { ...NO_MODS, shift: true }))
    .send(key('Delete'));
  assert.equal(d.state.cells.size, 0);
});

test('a range pasted as tab-separated rows fills the grid, and copies back out the same', () => {
  const d = new AppDriver(sheetApp, 800, 600);
  d.send(key('ArrowRight'));
  d.send({ type: 'paste', text: '1\t2\r\n3\t=B1+C2\n' });
  assert.deepEqual(
    ['B1', 'C1', 'B2', 'C2'].map((n) => shown(d.state, n)),
    ['1', '2', '3', '#CYCLE!'],
  );
  assert.equal(sheetApp.copyText?.(d.state), '1\t2\n3\t=B1+C2');
});

test('dragging a column header border changes that column width, within bounds', () => {
  const d = new AppDriver(sheetApp, 800, 600);
  const border = ROW_HEADER_WIDTH + 96 - 1;
  const y = GRID_TOP - 10;
  const p = (action: 'down' | 'move' | 'up', x: number, buttons: number): InputEvent => ({
    type: 'pointer',
    action,
    x,
    y,
    button: 0,
    buttons,
    mods: NO_MODS,
  });
  d.send(p('down', border, 1))
    .send(p('move', border + 50, 1))
    .send(p('up', border + 50, 0));
  assert.equal(d.state.colWidths[0], 146);
  d.send(p('down', ROW_HEADER_WIDTH + 146 - 1, 1))
    .send(p('move', -5000, 1))
    .send(p('up', -5000, 0));
  assert.equal(d.state.colWidths[0], 24);
});

test('snapshots round-trip exactly (hash and pixels) and restore refuses malformed bytes', () => {
  const d = new AppDriver(sheetApp, 640, 400);
  typeInto(d, '1\n2\n=SUM(A1:A2)\t');
  const snap = sheetApp.snapshot(d.state);
  const back = sheetApp.restore(snap);
  assert.equal(stateHashOf(sheetApp.snapshot(back)), stateHashOf(snap));
  assert.ok(renderPixels(sheetApp, back).equals(renderPixels(sheetApp, d.state)));
  for (const bad of [
    '{',
    '{"app":"sheet","v":1}',
    JSON.stringify({
      ...JSON.parse(snap.toString()),
      cells: [
        [0, 'a'],
        [0, 'b'],
      ],
    }),
  ])
    assert.throws(() => sheetApp.restore(Buffer.from(bad)), /sheet snapshot/);
});
