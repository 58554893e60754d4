// Reads the frame stamp (the seq a frame reflects) straight from a decoded
// WebCodecs VideoFrame's luma plane: a copyTo of two rows of the stamp strip,
// no RGB conversion, no canvas (a <video>'s current frame, frame-stamp-reader.ts).
import { STAMP_HEIGHT, decodeStampRow } from '../protocol/frame-stamp.js';
import type { AppSize } from './coords.js';

/** Pixel formats whose first plane is luma (what the stamp is read from). */
const LUMA_FIRST = new Set(['I420', 'I420A', 'I422', 'I444', 'NV12']);

/** The two rows to copy, or null when this frame's format or layout has no luma plane to read them from. */
export function stampRect(frame: VideoFrame, app: AppSize): DOMRectInit | null {
  const v = frame.visibleRect;
  if (!v || !frame.format || !LUMA_FIRST.has(frame.format) || v.width % 2 !== 0 || v.x % 2 !== 0) return null;
  // The strip's middle row, mapped through any encoder scaling; rects must sit on even rows for 4:2:0.
  const scaleY = v.height / (app.height + STAMP_HEIGHT);
  const y = Math.min(v.y + v.height - 2, (v.y + Math.round((app.height + STAMP_HEIGHT / 2) * scaleY)) & ~1);
  return { x: v.x, y, width: v.width, height: 2 };
}

/** The seq stamped on `frame` (rows `rect` of stampRect), null when the strip does not decode. The caller closes the frame. */
export async function copyStamp(frame: VideoFrame, rect: DOMRectInit, app: AppSize): Promise<number | null> {
  const width = rect.width ?? 0;
  const buf = new Uint8Array(frame.allocationSize({ rect }));
  const layout = await frame.copyTo(buf, { rect });
  const offset = layout[0]?.offset ?? 0;
  const row = new Uint8Array(app.width * 4);
  for (let x = 0; x < app.width; x++) {
    const luma = buf[offset + Math.floor((x * width) / app.width)] ?? 0;
    row[x * 4] = row[x * 4 + 1] = row[x * 4 + 2] = luma;
  }
  return decodeStampRow(row, app.width);
}

let scratch: { canvas: HTMLCanvasElement; ctx: CanvasRenderingContext2D | null } | null = null;

/**
 * The fallback where a frame cannot be copied from (no WebCodecs, no luma
 * plane): draws the strip of `source` (srcWidth × srcHeight pixels, strip
 * included) back at app width, where the block grid is defined, and decodes
 * its middle row. Null before a frame, or when the canvas is tainted.
 */
export function drawStamp(source: CanvasImageSource, srcWidth: number, srcHeight: number, app: AppSize): number | null {
  if (srcWidth <= 0 || srcHeight <= 0 || app.width <= 0) return null;
  // The encoder may have scaled the frame: map the strip through the ratio.
  const scaleY = srcHeight / (app.height + STAMP_HEIGHT);
  const ctx = scratchContext(app.width);
  if (!ctx) return null;
  try {
    ctx.drawImage(source, 0, app.height * scaleY, srcWidth, STAMP_HEIGHT * scaleY, 0, 0, app.width, STAMP_HEIGHT);
    const row = ctx.getImageData(0, STAMP_HEIGHT >> 1, app.width, 1).data;
    return decodeStampRow(row, app.width);
  } catch {
    return null;
  }
}

function scratchContext(width: number): CanvasRenderingContext2D | null {
  if (!scratch) {
    const canvas = document.createElement('canvas');
    canvas.height = STAMP_HEIGHT;
    scratch = { canvas, ctx: null };
  }
  if (scratch.canvas.width !== width) {
    scratch.canvas.width = width;
    scratch.ctx = null;
  }
  if (!scratch.ctx) {
    scratch.ctx = scratch.canvas.getContext('2d', { willReadFrequently: true, alpha: false });
    if (scratch.ctx) scratch.ctx.imageSmoothingEnabled = false;
  }
  return scratch.ctx;
}
