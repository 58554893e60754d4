// Replays the drawing commands a sandboxed app recorded onto real node-canvas
// contexts: the frame's, and the app's offscreen surfaces (kept here, by id).
// Commands come from app code, so each is checked against a fixed table of
// operations and argument types before it touches a canvas.
import { createCanvas, type Canvas, type CanvasRenderingContext2D } from 'canvas';
import { AppCodeError, SandboxLimitError } from './errors.js';

type Arg = 'n' | 's' | 'b' | 'rule';

const OPS: Readonly<Record<string, readonly Arg[]>> = {
  save: [],
  restore: [],
  beginPath: [],
  closePath: [],
  stroke: [],
  fill: ['rule'],
  clip: ['rule'],
  translate: ['n', 'n'],
  scale: ['n', 'n'],
  fillRect: ['n', 'n', 'n', 'n'],
  strokeRect: ['n', 'n', 'n', 'n'],
  clearRect: ['n', 'n', 'n', 'n'],
  moveTo: ['n', 'n'],
  lineTo: ['n', 'n'],
  rect: ['n', 'n', 'n', 'n'],
  quadraticCurveTo: ['n', 'n', 'n', 'n'],
  arc: ['n', 'n', 'n', 'n', 'n', 'b'],
  fillText: ['s', 'n', 'n'],
};

const PROPS: Readonly<Record<string, 'n' | 's'>> = {
  fillStyle: 's',
  strokeStyle: 's',
  lineWidth: 'n',
  lineCap: 's',
  lineJoin: 's',
  globalAlpha: 'n',
  globalCompositeOperation: 's',
  font: 's',
  textAlign: 's',
  textBaseline: 's',
};

const MAX_STRING = 64 * 1024;

function bad(what: string): never {
  throw new AppCodeError(`app drawing command refused: ${what}`);
}

function checkArg(v: unknown, kind: Arg): unknown {
  switch (kind) {
    case 'n':
      // JSON turns NaN and infinities into null; canvas ignores such calls anyway.
      if (v === null) return NaN;
      if (typeof v !== 'number') bad('a number argument is not a number');
      return v;
    case 's':
      if (typeof v !== 'string' || v.length > MAX_STRING) bad('a string argument is not a bounded string');
      return v;
    case 'b':
      return v === true;
    case 'rule':
      return v === 'evenodd' ? 'evenodd' : 'nonzero';
  }
}

export class CommandReplayer {
  readonly #surfaces = new Map<number, { canvas: Canvas; ctx: CanvasRenderingContext2D }>();
  readonly #maxPixels: number;
  #pixels = 0;

  constructor(maxSurfacePixels: number) {
    this.#maxPixels = maxSurfacePixels;
  }

  /** Applies `json` (the sandbox's command list) in order; target 0 is `frame`. */
  replay(json: string, frame: CanvasRenderingContext2D): void {
    const commands: unknown = JSON.parse(json);
    if (!Array.isArray(commands)) bad('not a list');
    for (const cmd of commands as unknown[]) {
      if (!Array.isArray(cmd) || cmd.length < 2) bad('not a command');
      const [target, op, ...args] = cmd as unknown[];
      if (op === 'surface') {
        this.#createSurface(args);
        continue;
      }
      const ctx = target === 0 ? frame : typeof target === 'number' ? this.#surfaces.get(target)?.ctx : undefined;
      if (!ctx) bad(`unknown target ${String(target)}`);
      if (op === 'set') {
        const [prop, value] = args;
        const kind = typeof prop === 'string' ? PROPS[prop] : undefined;
        if (!kind) bad(`unknown property ${String(prop)}`);
        (ctx as unknown as Record<string, unknown>)[prop as string] = checkArg(value, kind);
      } else if (op === 'putImageData') {
        this.#putImageData(ctx, args);
      } else if (op === 'drawImage') {
        const [id, x, y] = args;
        const surface = typeof id === 'number' ? this.#surfaces.get(id) : undefined;
        if (!surface) bad(`drawImage of unknown surface ${String(id)}`);
        ctx.drawImage(surface.canvas, checkArg(x, 'n') as number, checkArg(y, 'n') as number);
      } else {
        const sig = typeof op === 'string' && Object.hasOwn(OPS, op) ? OPS[op] : undefined;
        if (!sig || args.length !== sig.length) bad(`unknown operation ${String(op)}`);
        const checked = sig.map((kind, i) => checkArg(args[i], kind));
        (ctx as unknown as Record<string, (...a: unknown[]) => void>)[op as string]?.(...checked);
      }
    }
  }

  /** Raw pixels: [dx, dy, width, height, base64 of width × height × 4 bytes], bounded like surfaces. */
  #putImageData(ctx: CanvasRenderingContext2D, args: unknown[]): void {
    const [x, y, w, h, data] = args;
    if (typeof w !== 'number' || typeof h !== 'number' || !Number.isInteger(w) || !Number.isInteger(h))
      bad('malformed image data size');
    if (w < 1 || h < 1 || w > 16384 || h > 16384 || w * h > this.#maxPixels) bad(`image data of ${w}×${h} pixels`);
    const bytes = w * h * 4;
    if (typeof data !== 'string' || data.length !== Math.ceil(bytes / 3) * 4) bad('image data is not its base64');
    const decoded = Buffer.from(data, 'base64');
    if (decoded.length !== bytes) bad('image data does not decode to width × height × 4 bytes');
    const dx = checkArg(x, 'n') as number;
    const dy = checkArg(y, 'n') as number;
    if (!Number.isFinite(dx) || !Number.isFinite(dy)) bad('image data position is not finite');
    const image = ctx.createImageData(w, h);
    image.data.set(decoded);
    ctx.putImageData(image, Math.round(dx), Math.round(dy));
  }

  #createSurface(args: unknown[]): void {
    const [id, w, h] = args;
    if (typeof id !== 'number' || typeof w !== 'number' || typeof h !== 'number') bad('malformed surface');
    if (!Number.isInteger(w) || !Number.isInteger(h) || w < 1 || h < 1 || w > 16384 || h > 16384)
      bad(`surface size ${w}×${h}`);
    if (this.#surfaces.has(id)) bad(`surface ${id} exists`);
    this.#pixels += w * h;
    if (this.#pixels > this.#maxPixels) {
      throw new SandboxLimitError(`app surfaces exceed ${this.#maxPixels} pixels`, { pixels: this.#pixels });
    }
    const canvas = createCanvas(w, h);
    this.#surfaces.set(id, { canvas, ctx: canvas.getContext('2d') });
  }
}
