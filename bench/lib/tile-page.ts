// The tile-display spike's page (bundled by bench/tile-display.ts with esbuild):
// a 1280x720 canvas drawn only from damage tiles (bench/lib/tile-frame.ts) that
// arrive over socket.io, no <video>. Key downs go back to the bench's writer.
// Each message is decoded whole (every tile, off the main thread where the
// browser can: createImageBitmap, DecompressionStream) and then drawn in one
// go, in arrival order; a malformed one is counted and dropped, never drawn.
import { io } from 'socket.io-client';
import { checkRawSize, decodeTileMessage, type Tile, type TileMessage } from './tile-frame.js';

export interface TilePageState {
  frames: number;
  tiles: number;
  errors: number;
  lastError: string;
  /** Time decoding and drawing messages (ms, main thread and awaited decodes). */
  drawMs: number;
}

const canvas = document.getElementById('tiles') as HTMLCanvasElement;
const ctx = canvas.getContext('2d', { alpha: false }) as CanvasRenderingContext2D;
const bounds = { width: canvas.width, height: canvas.height };
const state: TilePageState = { frames: 0, tiles: 0, errors: 0, lastError: '', drawMs: 0 };
(window as unknown as { __tiles: TilePageState }).__tiles = state;

/** The payload's bytes (socket.io hands the page ArrayBuffers, never shared memory). */
const bytesOf = (t: Tile) => t.payload as Uint8Array<ArrayBuffer>;

async function inflate(bytes: Uint8Array<ArrayBuffer>): Promise<Uint8Array<ArrayBuffer>> {
  const stream = new Blob([bytes]).stream().pipeThrough(new DecompressionStream('deflate'));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

type Decoded = { tile: Tile; bitmap: ImageBitmap } | { tile: Tile; image: ImageData };

async function decodeTile(format: TileMessage['format'], tile: Tile): Promise<Decoded> {
  if (format === 'png') {
    const bitmap = await createImageBitmap(new Blob([bytesOf(tile)], { type: 'image/png' }));
    if (bitmap.width !== tile.width || bitmap.height !== tile.height) {
      bitmap.close();
      throw new Error(`png ${bitmap.width}x${bitmap.height} in a ${tile.width}x${tile.height} tile`);
    }
    return { tile, bitmap };
  }
  const raw = await inflate(bytesOf(tile));
  checkRawSize(tile, raw.byteLength);
  return { tile, image: new ImageData(new Uint8ClampedArray(raw.buffer, raw.byteOffset, raw.byteLength), tile.width) };
}

async function show(bytes: Uint8Array): Promise<void> {
  const t0 = performance.now();
  const msg = decodeTileMessage(bytes, bounds);
  const decoded = await Promise.all(msg.tiles.map((t) => decodeTile(msg.format, t)));
  for (const d of decoded) {
    if ('bitmap' in d) {
      ctx.drawImage(d.bitmap, d.tile.x, d.tile.y);
      d.bitmap.close();
    } else ctx.putImageData(d.image, d.tile.x, d.tile.y);
  }
  state.frames++;
  state.tiles += decoded.length;
  state.drawMs += performance.now() - t0;
}

const socket = io({ transports: ['websocket'] });
let chain = Promise.resolve();
socket.on('tiles', (data: ArrayBuffer | Uint8Array) => {
  const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
  chain = chain.then(() =>
    show(bytes).catch((err: unknown) => {
      state.errors++;
      state.lastError = String(err);
    }),
  );
});
window.addEventListener('keydown', (e) => {
  e.preventDefault();
  socket.emit('key', {
    type: 'key',
    action: 'down',
    key: e.key,
    code: e.code,
    ...(e.key.length === 1 ? { text: e.key } : {}),
    mods: { shift: e.shiftKey, ctrl: e.ctrlKey, alt: e.altKey, meta: e.metaKey },
  });
});
