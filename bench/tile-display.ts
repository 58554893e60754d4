// Issue #18 point 6, a spike: can a non-video display path for the shown
// stream bring the viewer's CPU down to noVNC's? The page here draws damage
// tiles (bench/lib/tile-frame.ts) into a 1280x720 canvas, as noVNC draws its
// rectangles, instead of decoding VP8 into a <video>. The tiles come from a
// real writer replica (render/ app state and render, the damage bands of
// render/frame-damage.ts) in this process, over socket.io: PNG tiles
// (createImageBitmap + drawImage) and raw RGBA deflated (putImageData). Side by
// side in one run, with the peer bench's own method and launch (bench/peer.ts:
// all Chromium processes' CPU per thread while typing 10 keys/s for 10 s, then
// keydown → first changed frame on screen): Lockstep's video path (the peer
// bench's Lockstep half: 3 replicas, mediasoup, VP8) and noVNC when installed.
// The tile path's latency has no sequencer or durable log in it (the page's
// key goes straight to the replica): compare its display part, not its total.
// Usage: tsx bench/tile-display.ts
import { createServer, type Server as HttpServer } from 'node:http';
import { join } from 'node:path';
import { build } from 'esbuild';
import type { Page } from 'playwright-core';
import { Server } from 'socket.io';
import { KeyInputSchema } from '../protocol/input.js';
import { getApp } from '../render/apps/index.js';
import { ROOT } from '../scripts/lib/launcher.js';
import { waitFor } from '../scripts/lib/wait-for.js';
import { PRELOAD_CHARS } from './latency.js';
import { sleep, stampsMeaning } from './lib/cluster.js';
import { viewerStamps } from '../scripts/lib/viewer-page.js';
import { collector, formatResult, isMain, round, summarize, type BenchResult } from './lib/report.js';
import type { TileFormat } from './lib/tile-frame.js';
import type { TilePageState } from './lib/tile-page.js';
import { TileSource, type TileFrameCost } from './lib/tile-source.js';
import { PeerNotInstalledError } from './lib/vnc-peer.js';
import { proseText } from './lib/writer-inputs.js';
import { cpuDetail, measure, measureLockstep, measurePeer, withBrowser, type Measured } from './peer.js';

const WIDTH = 1280;
const HEIGHT = 720;
/**
 * The tile variants: PNG and raw deflated tiles of each key's damage, and PNG of the whole frame on every key (a
 * stand-in for large damage: paint strokes, scrolling, where the damage report asks for all of it).
 */
const VARIANTS: ReadonlyArray<{ label: string; format: TileFormat; whole: boolean }> = [
  { label: 'png', format: 'png', whole: false },
  { label: 'deflate-rgba', format: 'deflate-rgba', whole: false },
  { label: 'png-whole', format: 'png', whole: true },
];

export async function pageScript(): Promise<string> {
  const out = await build({
    entryPoints: [join(ROOT, 'bench/lib/tile-page.ts')],
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: ['chrome100'],
    write: false,
    logLevel: 'warning',
  });
  const file = out.outputFiles[0];
  if (!file) throw new Error('esbuild wrote no tile page');
  return file.text;
}

const PAGE = `<!doctype html><html><head><meta charset="utf-8"><title>tiles</title>
<style>body{margin:0;background:#222}canvas{display:block}</style></head>
<body><canvas id="tiles" width="${WIDTH}" height="${HEIGHT}"></canvas><script type="module" src="/tile-page.js"></script></body></html>`;

interface TileServer {
  url: string;
  /** Per key (frames of damage tiles). */
  costs: TileFrameCost[];
  /** Each connection's first frame, whole (the keyframe equivalent). */
  keyframes: TileFrameCost[];
  rejected: number;
  close(): Promise<void>;
}

/** One writer behind an HTTP + socket.io server: each connection gets a whole frame, then one frame per key (whole: all of it). */
async function serveTiles(format: TileFormat, whole: boolean, script: string): Promise<TileServer> {
  const source = new TileSource(getApp('writer'), { width: WIDTH, height: HEIGHT }, format, [
    { type: 'paste', text: `${proseText(PRELOAD_CHARS)}\n\n` },
  ]);
  const http: HttpServer = createServer((req, res) => {
    if (req.url === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end(PAGE);
    } else if (req.url === '/tile-page.js') {
      res.writeHead(200, { 'content-type': 'text/javascript' }).end(script);
    } else if (!req.url?.startsWith('/socket.io')) {
      res.writeHead(404).end();
    }
  });
  const io = new Server(http, { serveClient: false, transports: ['websocket'], maxHttpBufferSize: 4096 });
  const server: TileServer = {
    url: '',
    costs: [],
    keyframes: [],
    rejected: 0,
    close: () => new Promise<void>((resolve) => void io.close(() => resolve())),
  };
  io.on('connection', (socket) => {
    source.reset();
    const first = source.frame();
    server.keyframes.push(first.cost);
    socket.emit('tiles', first.message);
    socket.on('key', (raw: unknown) => {
      // The page is a party like any other: only a key input the protocol accepts reaches the app.
      const key = KeyInputSchema.safeParse(raw);
      if (!key.success) {
        server.rejected++;
        return;
      }
      source.apply(key.data);
      if (whole) source.reset();
      const { message, cost } = source.frame();
      server.costs.push(cost);
      socket.emit('tiles', message);
    });
  });
  await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
  const addr = http.address();
  server.url = `http://127.0.0.1:${typeof addr === 'object' && addr ? addr.port : 0}/`;
  return server;
}

function pageState(page: Page): Promise<TilePageState> {
  return page.evaluate(() => ({ ...(window as unknown as { __tiles: TilePageState }).__tiles }));
}

interface TileMeasured extends Measured {
  costs: TileFrameCost[];
  keyframe: TileFrameCost;
  page: TilePageState;
  rejected: number;
}

export async function measureTiles(format: TileFormat, whole: boolean, script: string): Promise<TileMeasured> {
  const server = await serveTiles(format, whole, script);
  try {
    return await withBrowser(async (page) => {
      await page.goto(server.url);
      await waitFor('the first tiles drawn', async () => (await pageState(page)).frames >= 1, 20_000, 50);
      await sleep(500);
      const first = await pageState(page);
      if (first.errors > 0) throw new Error(`tile page: ${first.lastError}`);
      const m = await measure(page, { selector: '#tiles', kind: 'canvas', cropBottom: 0 }, 'tiles');
      const state = await pageState(page);
      const keyframe = server.keyframes[0];
      if (!keyframe) throw new Error('no keyframe sent');
      return { ...m, costs: server.costs, keyframe, page: state, rejected: server.rejected };
    });
  } finally {
    await server.close();
  }
}

export async function runTileDisplay(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  const script = await pageScript();
  const note =
    'all Chromium processes, 10 keys/s for 10 s, 1400x900 window, 1280x720 writer with 1500 chars preloaded (bench/peer.ts method)';
  const add3 = (label: string, m: Measured, extra: Record<string, number | string> = {}) => {
    add({
      name: `tile-display.viewer-cpu.${label}`,
      value: m.cpuPercent,
      unit: '% of a core',
      detail: { ...cpuDetail(m), ...extra, note },
    });
    add({
      name: `tile-display.latency.${label}.p50`,
      value: m.lat.p50,
      unit: 'ms',
      detail: {
        p95: m.lat.p95,
        keystrokes: m.lat.n,
        unresolved: m.unresolved,
        noiseFramesChanged: `${m.noiseChanged}/${m.noiseFrames}`,
        load1m: m.load1m,
        // The video path's stamp split (sequencer and durable log included, which the tile path skips).
        ...(m.stamp ?? {}),
      },
    });
    add({ name: `tile-display.latency.${label}.p95`, value: m.lat.p95, unit: 'ms' });
  };
  for (const { label, format, whole } of VARIANTS) {
    const m = await measureTiles(format, whole, script);
    const enc = summarize(m.costs.map((c) => c.encodeMs));
    const bytes = summarize(m.costs.map((c) => c.bytes));
    const rows = summarize(m.costs.map((c) => c.pixels));
    add3(label, m, {
      pageFrames: m.page.frames,
      pageErrors: m.page.errors,
      pageDecodeDrawMsPerFrame: m.page.frames > 0 ? round(m.page.drawMs / m.page.frames, 2) : Number.NaN,
      keysRejected: m.rejected,
    });
    add({
      name: `tile-display.encode-ms-per-key.${label}`,
      value: round(enc.p50, 2),
      unit: 'ms (p50)',
      detail: {
        p95: round(enc.p95, 2),
        mean: round(enc.mean, 2),
        keys: enc.n,
        renderMsP50: round(summarize(m.costs.map((c) => c.renderMs)).p50, 2),
        pixelsP50: rows.p50,
        wholeFrames: m.costs.filter((c) => c.whole).length,
        tilesMean: round(m.costs.reduce((n, c) => n + c.tiles, 0) / Math.max(1, m.costs.length), 2),
        load1m: m.load1m,
        note: 'read-back of the damaged rectangles + encode, node side (replaces I420 + VP8 encode)',
      },
    });
    add({
      name: `tile-display.bytes-per-key.${label}`,
      value: round(bytes.p50),
      unit: 'bytes (p50)',
      detail: { p95: bytes.p95, mean: round(bytes.mean), max: bytes.max, keys: bytes.n },
    });
    if (whole) continue; // its every frame is one
    add({
      name: `tile-display.keyframe-bytes.${format}`,
      value: m.keyframe.bytes,
      unit: 'bytes',
      detail: {
        encodeMs: round(m.keyframe.encodeMs, 1),
        note: "whole 1280x720 frame of the preloaded writer (each connection's first)",
      },
    });
  }
  const video = await measureLockstep();
  add3('video', video, {
    note2: "Lockstep's viewer as in bench/peer.ts: 3 replicas, warm standbys, VP8 over mediasoup",
    stamps: stampsMeaning(viewerStamps()),
  });
  try {
    add3('noVNC', await measurePeer());
  } catch (err) {
    if (!(err instanceof PeerNotInstalledError)) throw err;
    console.log(`noVNC skipped: ${err.message}`);
  }
  return results;
}

if (isMain(import.meta.url)) {
  await runTileDisplay((r) => console.log(formatResult(r), r.detail ? JSON.stringify(r.detail) : ''));
}
