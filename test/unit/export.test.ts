// Exporting an app's document from its state: writer as .txt/.md, the sheet
// as .csv of computed values, paint as .png of exactly what it renders; the
// same from the sandbox; anything else is a typed ExportError.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createCanvas, loadImage } from 'canvas';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { paintApp, sheetApp, writerApp } from '../../render/apps/index.js';
import { loadSandboxLimits } from '../../render/config.js';
import { ExportError } from '../../render/errors.js';
import { sandboxedAppFromFolder } from '../../render/sandbox/app-folder.js';
import { AppDriver, renderPixels } from '../helpers/app-driver.js';

test('writer exports its text as .txt and .md, and refuses other formats', () => {
  const d = new AppDriver(writerApp);
  d.send({ type: 'paste', text: '# Title\n\nDéjà vu, 中文 😀' });
  for (const format of ['txt', 'md']) {
    const doc = writerApp.exportDocument?.(d.state, format);
    assert.equal(doc?.bytes.toString('utf8'), '# Title\n\nDéjà vu, 中文 😀');
    assert.match(doc?.mime ?? '', format === 'txt' ? /^text\/plain/ : /^text\/markdown/);
  }
  assert.throws(() => writerApp.exportDocument?.(d.state, 'png'), ExportError);
  assert.throws(() => writerApp.exportDocument?.(d.state, '../etc'), ExportError);
});

test('the sheet exports computed values as RFC 4180 CSV', () => {
  const d = new AppDriver(sheetApp);
  d.send({ type: 'paste', text: '2\t=A1*3\n\t"quoted", text\n=SUM(A1:B1)\t=1/0' });
  const doc = sheetApp.exportDocument?.(d.state, 'csv');
  assert.equal(doc?.mime, 'text/csv; charset=utf-8');
  assert.equal(doc?.bytes.toString('utf8'), '2,6\r\n,"""quoted"", text"\r\n8,#DIV/0!\r\n');
  assert.equal(sheetApp.exportDocument?.(new AppDriver(sheetApp).state, 'csv').bytes.length, 0, 'empty sheet');
});

test('paint exports a PNG of exactly what it renders', async () => {
  const d = new AppDriver(paintApp, 320, 240);
  const p = (action: 'down' | 'move' | 'up', x: number, y: number): InputEvent => ({
    type: 'pointer',
    action,
    x,
    y,
    button: 0,
    buttons: action === 'up' ? 0 : 1,
    mods: NO_MODS,
  });
  d.send(p('down', 40, 120))
    .send(p('move', 200, 150))
    .send(p('up', 200, 150));
  const doc = paintApp.exportDocument?.(d.state, 'png');
  assert.equal(doc?.mime, 'image/png');
  const img = await loadImage(doc?.bytes ?? Buffer.alloc(0));
  assert.deepEqual([img.width, img.height], [320, 240]);
  const ctx = createCanvas(320, 240).getContext('2d');
  ctx.drawImage(img, 0, 0);
  const decoded = Buffer.from(ctx.getImageData(0, 0, 320, 240).data.buffer);
  assert.ok(decoded.equals(renderPixels(paintApp, d.state)));
});

test('a sandboxed app exports the same bytes as in process', async () => {
  const dir = fileURLToPath(new URL('../../render/apps/sheet/', import.meta.url));
  const sandboxed = sandboxedAppFromFolder(dir, loadSandboxLimits());
  const paste: InputEvent = { type: 'paste', text: '1\t2\n=A1+B1\t=A2*10' };
  const d = new AppDriver(sheetApp).send(paste);
  const s = await sandboxed.apply(await sandboxed.init({ width: 800, height: 600 }), {
    seq: 1,
    time: 1,
    clientId: 'c',
    clientSeq: 0,
    event: paste,
  });
  try {
    assert.deepEqual(await sandboxed.exportDocument(s, 'csv'), sheetApp.exportDocument?.(d.state, 'csv'));
    await assert.rejects(sandboxed.exportDocument(s, 'txt'), ExportError);
  } finally {
    sandboxed.dispose(s);
  }
});
