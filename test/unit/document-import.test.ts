// Import: a file is checked and cut into `import` inputs (text at character
// boundaries, CSV at record ends) that the apps apply into exactly the file's
// content, however many parts it takes; bad files get typed errors.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LIMITS } from '../../protocol/limits.js';
import { sheetApp, writerApp } from '../../render/apps/index.js';
import { cellOf } from '../../render/apps/sheet/state.js';
import { parseCsv, CsvError } from '../../render/sdk/csv.js';
import { importInputs, textParts } from '../../server/document-import.js';
import { BadRequestError, TooLargeError } from '../../server/errors.js';
import { AppDriver } from '../helpers/app-driver.js';

const utf8 = (s: string) => new TextEncoder().encode(s);

test('text parts stay within the bound, never split a surrogate pair, and join to the text', () => {
  const text = `${'a'.repeat(9)}😀${'b'.repeat(20)}😀😀`;
  const parts = textParts(text, 10);
  assert.ok(parts.every((p) => p.length <= 10));
  assert.equal(parts.join(''), text);
  for (const p of parts) {
    const last = p.charCodeAt(p.length - 1);
    assert.ok(!(last >= 0xd800 && last <= 0xdbff), `part ends in half a pair: ${JSON.stringify(p)}`);
  }
});

test('a text file imported into the writer in many parts is exactly the file', () => {
  const file = `# Notes\n\nLine with ünïcödé and emoji 🎉.\n${'long line '.repeat(40)}\nend`;
  const inputs = importInputs('md', utf8(file), 64);
  assert.ok(inputs.length > 5, 'cut into several parts');
  const d = new AppDriver(writerApp, 640, 400);
  for (const i of inputs) d.send(i);
  assert.equal(d.state.text, file);
  // Exported again, the same bytes.
  assert.equal(Buffer.from(writerApp.exportDocument?.(d.state, 'txt').bytes ?? []).toString('utf8'), file);
});

test('a CSV file lands in the grid from A1, record by record, across parts', () => {
  const rows = [
    ['name', 'amount', 'note'],
    ['rent', '1200', 'due "1st"'],
    ['food', '=B2/4', 'weekly, roughly'],
    ['multi', '3', 'line one\nline two'],
    ...Array.from({ length: 30 }, (_, i) => [`item ${i}`, String(i * 7), '']),
  ];
  const csv = `${rows.map((r) => r.map((f) => (/[",\n]/.test(f) ? `"${f.replace(/"/g, '""')}"` : f)).join(',')).join('\r\n')}\r\n`;
  assert.deepEqual(parseCsv(csv), rows);
  const inputs = importInputs('csv', utf8(csv), 80);
  assert.ok(inputs.length > 5, 'cut into several parts');
  // Parts start where the previous ended and each holds whole records.
  let next = 0;
  for (const i of inputs) {
    assert.equal(i.row, next);
    next += parseCsv(i.data).length;
  }
  assert.equal(next, rows.length);
  const d = new AppDriver(sheetApp, 800, 600);
  for (const i of inputs) d.send(i);
  const got = new Map<string, string>();
  for (const [key, raw] of d.state.cells) {
    const { col, row } = cellOf(key);
    got.set(`${row},${col}`, raw);
  }
  rows.forEach((r, row) =>
    r.forEach((f, col) => assert.equal(got.get(`${row},${col}`) ?? '', f, `cell ${row},${col}`)),
  );
});

test('bad files get typed errors before anything is logged', () => {
  assert.throws(() => importInputs('txt', new Uint8Array([0x66, 0xff, 0xfe])), BadRequestError);
  assert.throws(() => importInputs('csv', utf8('a,"unterminated\n')), /not valid CSV: unterminated quoted field/);
  assert.throws(() => importInputs('csv', utf8('a,b"c\n')), BadRequestError);
  assert.throws(() => importInputs('csv', utf8('"a"x,b\n')), BadRequestError);
  assert.throws(() => importInputs('txt', new Uint8Array(LIMITS.maxImportBytes + 1)), TooLargeError);
  assert.throws(() => importInputs('csv', utf8(`${'x'.repeat(200)}\n`), 100), TooLargeError);
  assert.throws(() => parseCsv('"open'), CsvError);
  assert.deepEqual(importInputs('txt', new Uint8Array(0)), []);
});

test('a malformed import part sent straight to the sheet is ignored, the same on every replica', () => {
  const d = new AppDriver(sheetApp, 800, 600);
  d.send({ type: 'import', format: 'csv', row: 0, data: 'a,"b' });
  assert.equal(d.state.cells.size, 0);
});
