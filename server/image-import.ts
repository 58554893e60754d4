// An image into a new session: the file is checked (its structure walked and
// its declared size bounded before any pixel is decoded), decoded once here,
// fitted to the session's surface, and cut into `import` parts of straight
// RGBA rows. The decoded bytes are what enters the log, so every replica gets
// identical pixels whatever image libraries (or versions) its host has; no
// replica ever decodes a PNG or JPEG.
import { crc32 } from 'node:zlib';
import { createCanvas, loadImage, type Image } from 'canvas';
import type { ImageImportFormat, ImportInput } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import { BadRequestError, TooLargeError } from './errors.js';

export interface ImageSize {
  width: number;
  height: number;
}

const PNG_SIGNATURE = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);

function notAnImage(format: ImageImportFormat, why: string): never {
  throw new BadRequestError(`the .${format === 'jpeg' ? 'jpg' : format} file is not a valid image: ${why}`, { format });
}

/** Walks every PNG chunk (lengths, CRCs, IHDR first, IEND last): a truncated or garbled file is refused. */
function pngSize(b: Buffer): ImageSize {
  if (b.length < 8 || !b.subarray(0, 8).equals(PNG_SIGNATURE)) notAnImage('png', 'no PNG signature');
  let at = 8;
  let size: ImageSize | null = null;
  for (;;) {
    if (at + 12 > b.length) notAnImage('png', 'truncated (no IEND chunk)');
    const length = b.readUInt32BE(at);
    const type = b.toString('latin1', at + 4, at + 8);
    if (at + 12 + length > b.length) notAnImage('png', `truncated inside the ${type} chunk`);
    const crc = b.readUInt32BE(at + 8 + length);
    if (crc32(b.subarray(at + 4, at + 8 + length)) !== crc) notAnImage('png', `bad CRC in the ${type} chunk`);
    if (size === null) {
      if (type !== 'IHDR' || length !== 13) notAnImage('png', 'the first chunk is not IHDR');
      size = { width: b.readUInt32BE(at + 8), height: b.readUInt32BE(at + 12) };
    }
    at += 12 + length;
    if (type === 'IEND') return size;
  }
}

const SOF_MARKERS = new Set([0xc0, 0xc1, 0xc2, 0xc3, 0xc5, 0xc6, 0xc7, 0xc9, 0xca, 0xcb, 0xcd, 0xce, 0xcf]);

/** The frame size from the JPEG's SOF segment; the file must start with SOI and end with EOI. */
function jpegSize(b: Buffer): ImageSize {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) notAnImage('jpeg', 'no JPEG start marker');
  if (b[b.length - 2] !== 0xff || b[b.length - 1] !== 0xd9) notAnImage('jpeg', 'truncated (no end marker)');
  let at = 2;
  while (at + 4 <= b.length) {
    if (b[at] !== 0xff) notAnImage('jpeg', `no marker at byte ${at}`);
    const marker = b[at + 1] ?? 0;
    if (marker === 0xff) {
      at++; // fill byte
      continue;
    }
    const length = b.readUInt16BE(at + 2);
    if (length < 2 || at + 2 + length > b.length) notAnImage('jpeg', 'truncated segment');
    if (SOF_MARKERS.has(marker)) {
      if (length < 7) notAnImage('jpeg', 'short frame header');
      return { width: b.readUInt16BE(at + 7), height: b.readUInt16BE(at + 5) };
    }
    if (marker === 0xda) break; // scan data before any frame header
    at += 2 + length;
  }
  return notAnImage('jpeg', 'no frame header');
}

/** The size an image file declares, after checking its structure; nothing is decoded. */
export function declaredImageSize(format: ImageImportFormat, bytes: Buffer): ImageSize {
  const size = format === 'png' ? pngSize(bytes) : jpegSize(bytes);
  if (size.width < 1 || size.height < 1) notAnImage(format, `declared size ${size.width}×${size.height}`);
  if (size.width * size.height > LIMITS.maxImportDecodePixels) {
    throw new TooLargeError(
      `the image declares ${size.width}×${size.height} pixels; imports decode at most ${LIMITS.maxImportDecodePixels}`,
      { width: size.width, height: size.height },
    );
  }
  return size;
}

/** Checks and decodes an image file (typed errors for anything that is not a bounded PNG/JPEG). */
export async function decodeImportImage(format: ImageImportFormat, bytes: Buffer): Promise<Image> {
  if (bytes.length > LIMITS.maxImportBytes) {
    throw new TooLargeError(`the file is ${bytes.length} bytes; imports are limited to ${LIMITS.maxImportBytes}`, {
      size: bytes.length,
    });
  }
  const declared = declaredImageSize(format, bytes);
  let image: Image;
  try {
    image = await loadImage(bytes);
  } catch (err) {
    return notAnImage(format, err instanceof Error ? err.message : String(err));
  }
  if (image.width !== declared.width || image.height !== declared.height) {
    notAnImage(format, `decoded ${image.width}×${image.height}, declared ${declared.width}×${declared.height}`);
  }
  return image;
}

/** The size `image` is drawn at: scaled down (never up) to fit `box` and maxImportImagePixels, aspect kept. */
export function fittedSize(image: ImageSize, box: ImageSize): ImageSize {
  const scale = Math.min(
    1,
    box.width / image.width,
    box.height / image.height,
    Math.sqrt(LIMITS.maxImportImagePixels / (image.width * image.height)),
  );
  return {
    width: Math.max(1, Math.min(box.width, Math.floor(image.width * scale))),
    height: Math.max(1, Math.min(box.height, Math.floor(image.height * scale))),
  };
}

/** Straight RGBA rows of `image` fitted into `box` (one scaling, here on the server). */
export function fittedPixels(image: Image, box: ImageSize): ImageSize & { rgba: Uint8Array } {
  const size = fittedSize(image, box);
  const canvas = createCanvas(size.width, size.height);
  const ctx = canvas.getContext('2d');
  // Cairo's best filter averages every source pixel a destination pixel covers (no aliasing when shrinking).
  ctx.imageSmoothingEnabled = true;
  ctx.patternQuality = 'best';
  ctx.quality = 'best';
  ctx.drawImage(image, 0, 0, size.width, size.height);
  const data = ctx.getImageData(0, 0, size.width, size.height).data;
  return { ...size, rgba: new Uint8Array(data.buffer, data.byteOffset, data.byteLength) };
}

/** RGBA rows as `import` parts: bands of whole rows whose base64 fits `max` characters, in order. */
export function rgbaParts(size: ImageSize, rgba: Uint8Array, max = LIMITS.maxPasteChars): ImportInput[] {
  const rowBytes = size.width * 4;
  if (rgba.length !== rowBytes * size.height) throw new RangeError('rgba length does not match the size');
  const rowsPerPart = Math.floor((Math.floor(max / 4) * 3) / rowBytes);
  if (rowsPerPart < 1) throw new RangeError(`a ${size.width}-pixel row does not fit a part of ${max} characters`);
  const parts: ImportInput[] = [];
  for (let row = 0; row < size.height; row += rowsPerPart) {
    const end = Math.min(size.height, row + rowsPerPart);
    const data = Buffer.from(rgba.buffer, rgba.byteOffset + row * rowBytes, (end - row) * rowBytes).toString('base64');
    parts.push({ type: 'import', format: 'rgba', row, width: size.width, height: size.height, data });
  }
  return parts;
}
