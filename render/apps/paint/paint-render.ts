// Draws the board: committed strokes (through a raster), the stroke in
// progress, the toolbar and the status line. Every point is a whole pixel.
//
// Pixels are a pure function of the state. The canonical picture is "fill a
// width×height raster with the background, stroke every visible stroke onto
// it in order, copy it to the surface". The cache keeps that raster per state
// object and only ever extends it by stroking the next visible strokes, which
// is exactly the same sequence of operations on the same pixels. A second,
// lagging raster (a checkpoint a few dozen strokes behind) makes undo cheap:
// copy it back (an exact copy: both are opaque and pixel-aligned) and stroke
// the few strokes after it. Anything else (resize, undoing a clear, undoing
// past the checkpoint, an import part) rebuilds from scratch.
//
// The background (an imported image) is "the paper": filled first, then the
// image drawn over it, then the strokes. Its pixels are put into their own
// surface once per change (putImageData), never per frame.
//
// Damage (sdk/damage.ts): a board pixel depends only on the paper and the
// strokes over it, in order, and a stroke's ink stays within its points' box
// widened by half its width (plus a pixel of antialiasing). So a frame damages
// the boxes of the strokes past the longest prefix it shares with the frame
// before, and of the stroke in progress the part from its previous last point
// on (a round cap there becomes a round join). Toolbar and status bar are parts
// keyed by what they show. New paper damages everything.
import {
  createSurface,
  DamageTracker,
  type DrawingContext,
  type FrameInfo,
  type Rect,
  type Surface,
} from '../../sdk/index.js';
import {
  BACKGROUND,
  inkColor,
  visibleStart,
  visibleStrokes,
  type Background,
  type PaintState,
  type Stroke,
} from './state.js';
import { drawStatus, STATUS_HEIGHT, statusText } from './status.js';
import { drawToolbar, TOOLBAR_HEIGHT } from './toolbar.js';

interface Layer {
  readonly canvas: Surface;
  readonly ctx: DrawingContext;
  /** The strokes on the layer, in drawing order (compared by identity: committed strokes never change). */
  drawn: Stroke[];
}

interface Raster {
  /** The board as last rendered. */
  readonly top: Layer;
  /** A prefix of `top`, CHECKPOINT_LAG..2×CHECKPOINT_LAG strokes behind it. */
  readonly base: Layer;
  /** The background both layers were painted on, and its revision then. */
  paper: { background: Background | null; revision: number };
}

/** A background's pixels in a surface, as of `revision`. */
interface Picture {
  readonly surface: Surface;
  revision: number;
}

/** Undo costs at most a copy plus 2×CHECKPOINT_LAG strokes until it passes the checkpoint. */
const CHECKPOINT_LAG = 32;

// Keyed by state object: replicas of different sessions in one process never share a raster.
const rasters = new WeakMap<PaintState, Raster>();
const pictures = new WeakMap<Background, Picture>();

function pictureOf(bg: Background): Surface {
  let picture = pictures.get(bg);
  if (!picture) {
    picture = { surface: createSurface(bg.width, bg.height), revision: -1 };
    pictures.set(bg, picture);
  }
  if (picture.revision !== bg.revision) {
    const ctx = picture.surface.getContext('2d');
    const image = ctx.createImageData(bg.width, bg.height);
    image.data.set(bg.pixels);
    ctx.putImageData(image, 0, 0);
    picture.revision = bg.revision;
  }
  return picture.surface;
}

export function drawStroke(ctx: DrawingContext, stroke: Stroke): void {
  const p = stroke.points;
  const color = inkColor(stroke.ink);
  ctx.beginPath();
  if (p.length === 2) {
    // A tap: a round dot of the brush width.
    ctx.fillStyle = color;
    ctx.arc(p[0] ?? 0, p[1] ?? 0, stroke.width / 2, 0, 2 * Math.PI);
    ctx.fill();
    return;
  }
  ctx.strokeStyle = color;
  ctx.lineWidth = stroke.width;
  ctx.lineCap = 'round';
  ctx.lineJoin = 'round';
  ctx.moveTo(p[0] ?? 0, p[1] ?? 0);
  for (let i = 2; i < p.length; i += 2) ctx.lineTo(p[i] ?? 0, p[i + 1] ?? 0);
  ctx.stroke();
}

function isPrefix(drawn: readonly Stroke[], visible: readonly Stroke[]): boolean {
  if (drawn.length > visible.length) return false;
  for (let i = 0; i < drawn.length; i++) if (drawn[i] !== visible[i]) return false;
  return true;
}

function blankLayer(state: PaintState): Layer {
  const canvas = createSurface(state.width, state.height);
  const ctx = canvas.getContext('2d');
  clearLayer(ctx, state);
  return { canvas, ctx, drawn: [] };
}

/** The paper: its colour, and the imported image over it. */
function clearLayer(ctx: DrawingContext, state: PaintState): void {
  ctx.fillStyle = BACKGROUND;
  ctx.fillRect(0, 0, state.width, state.height);
  if (state.background) ctx.drawImage(pictureOf(state.background), 0, 0);
}

/** Strokes visible[layer.drawn.length .. upTo) onto the layer, whose strokes must be a prefix of `visible`. */
function extend(layer: Layer, visible: readonly Stroke[], upTo: number): void {
  for (let i = layer.drawn.length; i < upTo; i++) {
    const stroke = visible[i];
    if (!stroke) break;
    drawStroke(layer.ctx, stroke);
    layer.drawn.push(stroke);
  }
}

/** The committed strokes rasterized at the viewport size. */
function strokeLayer(state: PaintState): Surface {
  const { width, height } = state;
  const visible = visibleStrokes(state);
  const paper = { background: state.background, revision: state.background?.revision ?? 0 };
  let raster = rasters.get(state);
  if (!raster || raster.top.canvas.width !== width || raster.top.canvas.height !== height) {
    raster = { top: blankLayer(state), base: blankLayer(state), paper };
    rasters.set(state, raster);
  }
  const { top, base } = raster;
  if (raster.paper.background !== paper.background || raster.paper.revision !== paper.revision) {
    // New paper under everything: repaint both layers from it (their surfaces are reused).
    for (const layer of [top, base]) {
      clearLayer(layer.ctx, state);
      layer.drawn = [];
    }
    raster.paper = paper;
  }
  // Far behind (cold, or a clear undone): go through the checkpoint too, so it is not drawn twice later.
  if (!isPrefix(top.drawn, visible) || visible.length - top.drawn.length > 2 * CHECKPOINT_LAG) {
    if (!isPrefix(base.drawn, visible)) {
      clearLayer(base.ctx, state);
      base.drawn = [];
    }
    extend(base, visible, visible.length - CHECKPOINT_LAG);
    top.ctx.drawImage(base.canvas, 0, 0);
    top.drawn = base.drawn.slice();
  }
  extend(top, visible, visible.length);
  if (top.drawn.length - base.drawn.length > 2 * CHECKPOINT_LAG)
    extend(base, visible, top.drawn.length - CHECKPOINT_LAG);
  return top.canvas;
}

/** What the board showed in a frame (compared with the next one). */
interface BoardFrame {
  id: number;
  visible: Stroke[];
  drawing: Stroke | null;
  /** Coordinates in `drawing.points` then (its points grow in place). */
  drawingLength: number;
  background: Background | null;
  revision: number;
}

const boards = new WeakMap<PaintState, BoardFrame>();
const trackers = new WeakMap<PaintState, DamageTracker>();
const boxes = new WeakMap<Stroke, Rect>();

/** The box of the ink of `stroke`'s points from coordinate index `from` on. */
function inkBox(stroke: Stroke, from = 0): Rect {
  const p = stroke.points;
  let x0 = Infinity;
  let y0 = Infinity;
  let x1 = -Infinity;
  let y1 = -Infinity;
  for (let i = Math.max(0, from - (from % 2)); i + 1 < p.length; i += 2) {
    const x = p[i] ?? 0;
    const y = p[i + 1] ?? 0;
    x0 = Math.min(x0, x);
    x1 = Math.max(x1, x);
    y0 = Math.min(y0, y);
    y1 = Math.max(y1, y);
  }
  if (x0 > x1) return { x: 0, y: 0, width: 0, height: 0 };
  const r = Math.ceil(stroke.width / 2) + 2;
  return { x: x0 - r, y: y0 - r, width: x1 - x0 + 2 * r, height: y1 - y0 + 2 * r };
}

/** A committed stroke's box (its points never change again). */
function strokeBox(stroke: Stroke): Rect {
  let box = boxes.get(stroke);
  if (!box) {
    box = inkBox(stroke);
    boxes.set(stroke, box);
  }
  return box;
}

/** The board's damage since `last`, or undefined for all of it. */
function boardDamage(last: BoardFrame, now: BoardFrame): Rect[] | undefined {
  if (last.background !== now.background || last.revision !== now.revision) return undefined;
  let k = 0;
  while (k < last.visible.length && k < now.visible.length && last.visible[k] === now.visible[k]) k++;
  const damage: Rect[] = [];
  for (let i = k; i < last.visible.length; i++) damage.push(strokeBox(last.visible[i] as Stroke));
  for (let i = k; i < now.visible.length; i++) damage.push(strokeBox(now.visible[i] as Stroke));
  if (last.drawing === now.drawing && now.drawing && now.drawingLength >= last.drawingLength) {
    if (now.drawingLength > last.drawingLength) damage.push(inkBox(now.drawing, last.drawingLength - 2));
  } else {
    if (last.drawing) damage.push(inkBox(last.drawing));
    if (now.drawing) damage.push(inkBox(now.drawing));
  }
  return damage;
}

/** The frame's damage: toolbar and status parts, and the board's. */
function damageOf(state: PaintState, frame: FrameInfo, visible: Stroke[]): Rect[] | undefined {
  const now: BoardFrame = {
    id: frame.id,
    visible,
    drawing: state.drawing,
    drawingLength: state.drawing?.points.length ?? 0,
    background: state.background,
    revision: state.background?.revision ?? 0,
  };
  const last = boards.get(state);
  boards.set(state, now);
  const board = last && last.id === frame.over ? boardDamage(last, now) : undefined;
  let tracker = trackers.get(state);
  if (!tracker) {
    tracker = new DamageTracker();
    trackers.set(state, tracker);
  }
  const { left, right } = statusText(state);
  const toolbarKey = [state.tool, state.color, state.size, state.applied, state.items.length, visibleStart(state)];
  const parts = [
    {
      id: 'toolbar',
      rect: { x: 0, y: 0, width: state.width, height: TOOLBAR_HEIGHT },
      key: `${toolbarKey.join(',')},${state.drawing ? 1 : 0}`,
    },
    {
      id: 'status',
      rect: { x: 0, y: state.height - STATUS_HEIGHT, width: state.width, height: STATUS_HEIGHT },
      key: `${state.full ? 1 : 0}\u0000${left}\u0000${right}`,
    },
  ];
  const damage = tracker.frame(frame, parts, board ?? []);
  return board ? damage : undefined;
}

/** Draws the whole surface; with `frame`, answers the rectangles that changed since frame `frame.over`. */
export function renderPaint(state: PaintState, ctx: DrawingContext, frame?: FrameInfo): Rect[] | undefined {
  ctx.save();
  ctx.globalAlpha = 1;
  ctx.globalCompositeOperation = 'source-over';
  ctx.drawImage(strokeLayer(state), 0, 0);
  if (state.drawing) drawStroke(ctx, state.drawing);
  // Chrome last, so strokes that wander under it never cover it.
  drawToolbar(ctx, state);
  drawStatus(ctx, state);
  ctx.restore();
  return frame ? damageOf(state, frame, visibleStrokes(state)) : undefined;
}
