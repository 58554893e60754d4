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
import { createSurface, type DrawingContext, type Surface } from '../../sdk/index.js';
import { BACKGROUND, inkColor, visibleStrokes, type Background, type PaintState, type Stroke } from './state.js';
import { drawStatus } from './status.js';
import { drawToolbar } from './toolbar.js';

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

export function renderPaint(state: PaintState, ctx: DrawingContext): void {
  ctx.save();
  ctx.globalAlpha = 1;
  ctx.globalCompositeOperation = 'source-over';
  ctx.drawImage(strokeLayer(state), 0, 0);
  if (state.drawing) drawStroke(ctx, state.drawing);
  // Chrome last, so strokes that wander under it never cover it.
  drawToolbar(ctx, state);
  drawStatus(ctx, state);
  ctx.restore();
}
