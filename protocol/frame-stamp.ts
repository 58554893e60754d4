// The frame stamp: each video frame carries the input seq it reflects in a
// strip of large black/white blocks below the app surface. Large flat blocks
// survive VP8 compression; the viewer crops the strip out of sight and decodes
// it to measure freshness and input-to-photon latency.

/** Pixel rows the strip adds below the app surface (keeps I420 height even). */
export const STAMP_HEIGHT = 16;
const SEQ_BITS = 32;
const CHECK_BITS = 8;
export const STAMP_BLOCKS = SEQ_BITS + CHECK_BITS;

function crc8(bytes: readonly number[]): number {
  let crc = 0;
  for (const b of bytes) {
    crc ^= b;
    for (let i = 0; i < 8; i++) crc = crc & 0x80 ? ((crc << 1) ^ 0x07) & 0xff : (crc << 1) & 0xff;
  }
  return crc;
}

function seqBytes(seq: number): number[] {
  return [(seq >>> 24) & 0xff, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff];
}

/** The 40 block values (true = white) for a seq, most significant bit first. */
export function stampBits(seq: number): boolean[] {
  if (!Number.isInteger(seq) || seq < 0 || seq > 0xffffffff) throw new RangeError(`stamp seq out of range: ${seq}`);
  const bits: boolean[] = [];
  for (let i = SEQ_BITS - 1; i >= 0; i--) bits.push(((seq >>> i) & 1) === 1);
  const check = crc8(seqBytes(seq));
  for (let i = CHECK_BITS - 1; i >= 0; i--) bits.push(((check >>> i) & 1) === 1);
  return bits;
}

export function stampBlockWidth(frameWidth: number): number {
  return Math.floor(frameWidth / STAMP_BLOCKS);
}

/** Anything with fillStyle/fillRect: a node-canvas or a browser 2D context. */
export interface StampContext {
  fillStyle: unknown;
  fillRect(x: number, y: number, w: number, h: number): void;
}

export function drawStamp(ctx: StampContext, seq: number, frameWidth: number, y0: number): void {
  const bw = stampBlockWidth(frameWidth);
  ctx.fillStyle = '#000000';
  ctx.fillRect(0, y0, frameWidth, STAMP_HEIGHT);
  ctx.fillStyle = '#ffffff';
  stampBits(seq).forEach((white, i) => {
    if (white) ctx.fillRect(i * bw, y0, bw, STAMP_HEIGHT);
  });
}

/**
 * Decodes one RGBA row sampled through the middle of the strip. Returns null
 * when the check bits disagree (a frame mid-transition, or no stamp at all).
 */
export function decodeStampRow(row: ArrayLike<number>, frameWidth: number): number | null {
  const bw = stampBlockWidth(frameWidth);
  if (bw < 2 || row.length < frameWidth * 4) return null;
  const bits: number[] = [];
  for (let i = 0; i < STAMP_BLOCKS; i++) {
    // Average the middle half of the block: edges blur under compression.
    let sum = 0;
    let n = 0;
    for (let x = i * bw + Math.floor(bw / 4); x < i * bw + Math.ceil((3 * bw) / 4); x++) {
      const p = x * 4;
      sum += 0.299 * (row[p] ?? 0) + 0.587 * (row[p + 1] ?? 0) + 0.114 * (row[p + 2] ?? 0);
      n++;
    }
    bits.push(sum / Math.max(n, 1) >= 128 ? 1 : 0);
  }
  let seq = 0;
  for (let i = 0; i < SEQ_BITS; i++) seq = seq * 2 + (bits[i] ?? 0);
  let check = 0;
  for (let i = SEQ_BITS; i < STAMP_BLOCKS; i++) check = check * 2 + (bits[i] ?? 0);
  return crc8(seqBytes(seq)) === check ? seq : null;
}
