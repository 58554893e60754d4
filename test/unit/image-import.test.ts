// An image into a new session, on the server: the file's structure and
// declared size are checked before anything is decoded, it is decoded and
// fitted once, and its RGBA rows are cut into `import` parts that every
// replica applies; bad images get typed errors.
import assert from 'node:assert/strict';
import { crc32 } from 'node:zlib';
import { test } from 'node:test';
import { createCanvas } from 'canvas';
import { InputEventSchema, type ImportInput } from '../../protocol/input.js';
import { LIMITS } from '../../protocol/limits.js';
import { BadRequestError, TooLargeError } from '../../server/errors.js';
import {
  declaredImageSize,
  decodeImportImage,
  fittedPixels,
  fittedSize,
  rgbaParts,
} from '../../server/image-import.js';

/** A w×h image: left half red, right half blue (opaque). */
function picture(w: number, h: number, type: 'image/png' | 'image/jpeg' = 'image/png'): Buffer {
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  ctx.fillStyle = '#ff0000';
  ctx.fillRect(0, 0, w / 2, h);
  ctx.fillStyle = '#0000ff';
  ctx.fillRect(w / 2, 0, w / 2, h);
  return type === 'image/png' ? canvas.toBuffer('image/png') : canvas.toBuffer('image/jpeg');
}

function chunk(type: string, data: Buffer): Buffer {
  const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  body.copy(out, 4);
  out.writeUInt32BE(crc32(body), 8 + data.length);
  return out;
}

/** A well-formed PNG that declares width×height and carries no pixels worth decoding. */
function pngDeclaring(width: number, height: number): Buffer {
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr.set([8, 6, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', ihdr),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}

const decodedRows = (parts: ImportInput[]): Buffer => Buffer.concat(parts.map((p) => Buffer.from(p.data, 'base64')));

test('RGBA rows are cut into bands of whole rows within the per-input bound, each a valid input', () => {
  const size = { width: 100, height: 37 };
  const rgba = Uint8Array.from({ length: 100 * 37 * 4 }, (_, i) => (i * 7) % 256);
  const parts = rgbaParts(size, rgba, 4000);
  // 4000 base64 characters carry 3000 bytes: 7 rows of 400.
  assert.equal(parts.length, 6);
  assert.deepEqual(
    parts.map((p) => p.row),
    [0, 7, 14, 21, 28, 35],
  );
  for (const p of parts) {
    assert.ok(p.data.length <= 4000);
    assert.deepEqual([p.format, p.width, p.height], ['rgba', 100, 37]);
    assert.ok(InputEventSchema.safeParse(p).success, `part at row ${p.row} parses`);
  }
  assert.ok(decodedRows(parts).equals(Buffer.from(rgba)));
  // At the real bound, the widest surface still gets whole rows per part.
  const wide = { width: LIMITS.maxViewportWidth, height: 4 };
  const wideParts = rgbaParts(wide, new Uint8Array(wide.width * 4 * 4));
  assert.ok(wideParts.every((p) => p.data.length <= LIMITS.maxPasteChars && InputEventSchema.safeParse(p).success));
  assert.throws(() => rgbaParts(size, rgba.subarray(1), 4000), RangeError);
});

test('the import schema refuses inconsistent image parts', () => {
  const good = rgbaParts({ width: 4, height: 2 }, new Uint8Array(32))[0];
  assert.ok(good);
  assert.ok(InputEventSchema.safeParse(good).success);
  const refused = (event: Record<string, unknown>, why: RegExp) => {
    const r = InputEventSchema.safeParse({ ...good, ...event });
    assert.ok(!r.success, `accepted ${JSON.stringify(event)}`);
    assert.match(r.error.issues.map((i) => i.message).join('; '), why);
  };
  refused({ width: undefined }, /needs the image width and height/);
  refused({ data: Buffer.alloc(12).toString('base64') }, /whole rows of 16 bytes/);
  refused({ row: 1 }, /exceed the image height 2/);
  refused({ data: '!!!!' }, /not base64/);
  refused({ data: '' }, /whole rows/);
  refused({ width: 3000, height: 2000 }, /exceeds \d+ pixels/);
  refused({ format: 'txt', data: 'text' }, /only rgba parts carry width and height/);
  refused({ format: 'png' }, /Invalid enum value/);
});

test('PNG and JPEG sizes are read from their headers; bad or truncated files are typed 400s', () => {
  assert.deepEqual(declaredImageSize('png', picture(50, 30)), { width: 50, height: 30 });
  assert.deepEqual(declaredImageSize('jpeg', picture(48, 32, 'image/jpeg')), { width: 48, height: 32 });
  const png = picture(50, 30);
  const bad: [string, 'png' | 'jpeg', Buffer][] = [
    ['garbage', 'png', Buffer.from('this is not an image at all')],
    ['truncated png', 'png', png.subarray(0, png.length - 20)],
    ['png with a flipped byte', 'png', Buffer.from(png).fill(0x55, 40, 41)],
    ['png as jpeg', 'jpeg', png],
    ['truncated jpeg', 'jpeg', picture(48, 32, 'image/jpeg').subarray(0, 300)],
    ['empty', 'png', Buffer.alloc(0)],
    ['zero size', 'png', pngDeclaring(0, 10)],
  ];
  for (const [name, format, bytes] of bad) {
    assert.throws(() => declaredImageSize(format, bytes), BadRequestError, name);
  }
});

test('a huge declared size is refused from the header, before any decoding', async () => {
  const huge = pngDeclaring(100_000, 100_000);
  assert.throws(() => declaredImageSize('png', huge), TooLargeError);
  await assert.rejects(decodeImportImage('png', huge), /declares 100000×100000 pixels/);
  await assert.rejects(decodeImportImage('png', Buffer.alloc(LIMITS.maxImportBytes + 1)), TooLargeError);
  // Well formed and small, but no image data: the decoder's refusal is a typed 400 too.
  await assert.rejects(decodeImportImage('png', pngDeclaring(10, 10)), BadRequestError);
});

test('images are fitted into the surface (never enlarged) and within the pixel cap, aspect kept', () => {
  assert.deepEqual(fittedSize({ width: 4000, height: 1000 }, { width: 1280, height: 720 }), {
    width: 1280,
    height: 320,
  });
  assert.deepEqual(fittedSize({ width: 200, height: 100 }, { width: 1280, height: 720 }), {
    width: 200,
    height: 100,
  });
  const capped = fittedSize({ width: 3840, height: 2160 }, { width: 3840, height: 2160 });
  assert.ok(capped.width * capped.height <= LIMITS.maxImportImagePixels);
  assert.ok(Math.abs(capped.width / capped.height - 16 / 9) < 0.01);
});

test('a PNG decodes once into straight RGBA rows of the fitted size', async () => {
  const image = await decodeImportImage('png', picture(400, 100));
  const fitted = fittedPixels(image, { width: 200, height: 200 });
  assert.deepEqual([fitted.width, fitted.height], [200, 50]);
  const at = (x: number, y: number) => [...fitted.rgba.subarray((y * 200 + x) * 4, (y * 200 + x) * 4 + 4)];
  assert.deepEqual(at(10, 25), [255, 0, 0, 255]);
  assert.deepEqual(at(190, 25), [0, 0, 255, 255]);
  const jpeg = await decodeImportImage('jpeg', picture(64, 64, 'image/jpeg'));
  assert.deepEqual([jpeg.width, jpeg.height], [64, 64]);
});
