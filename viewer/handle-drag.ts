// Selection handles on a touch screen, the pure part: which handle is the
// start and which the end of an app's reported selection, where each sits on
// screen, and what dragging one sends. A drag is the pointer inputs apps
// already understand, so it extends the selection through the log like any
// other input: the focus end moves with a shift+press at it and a drag (the
// anchor stays fixed); the anchor end moves with a press at the focus (which
// then stays fixed) and a drag from there.
import { NO_MODS, type InputEvent, type Modifiers } from '../protocol/input.js';
import type { CaretRect, SelectionGeometry } from '../protocol/selection.js';
import { mapFromApp, type AppSize, type Box } from './coords.js';

/** Touch target of one handle (CSS px): at least the 44 px a finger needs. */
export const HANDLE_TARGET_PX = 44;

export type SelectionEnd = 'anchor' | 'focus';

export interface PlacedHandle {
  /** Which end of the app's selection it drags. */
  end: SelectionEnd;
  /** The caret's x and its line's bottom, in CSS pixels relative to the stage box. */
  x: number;
  lineBottom: number;
  /** False when the caret is outside the shown surface (the handle is hidden). */
  visible: boolean;
}

/** Start first (reading order), end second. */
export function placeHandles(geometry: SelectionGeometry, box: Box, app: AppSize): [PlacedHandle, PlacedHandle] {
  const place = (end: SelectionEnd, r: CaretRect): PlacedHandle => {
    // Mapped against a box at the origin: positions relative to the stage.
    const at = { left: 0, top: 0, width: box.width, height: box.height };
    const top = mapFromApp(r.x, r.y, at, app, { extraRows: 0, fit: 'fill' });
    const bottom = mapFromApp(r.x, r.y + r.height, at, app, { extraRows: 0, fit: 'fill' });
    const visible = r.x >= 0 && r.x <= app.width && r.y >= 0 && r.y + r.height <= app.height;
    return { end, x: top.clientX, lineBottom: bottom.clientY, visible };
  };
  const a = place('anchor', geometry.anchor);
  const f = place('focus', geometry.focus);
  const anchorFirst =
    geometry.anchor.y < geometry.focus.y ||
    (geometry.anchor.y === geometry.focus.y && geometry.anchor.x <= geometry.focus.x);
  return anchorFirst ? [a, f] : [f, a];
}

/** The middle of a caret's line: where a press lands on that caret. */
export function caretPoint(r: CaretRect): { x: number; y: number } {
  return { x: r.x, y: r.y + r.height / 2 };
}

export interface AppPoint {
  x: number;
  y: number;
}

/**
 * One handle drag. `grab` is the finger in app coordinates; the handle sits
 * below the caret, so the finger's offset from the caret is kept and every
 * move sends the point the handle's caret is dragged to.
 */
export class HandleDrag {
  readonly end: SelectionEnd;
  readonly #send: (event: InputEvent) => void;
  readonly #offset: AppPoint;
  #last: AppPoint;
  #done = false;

  constructor(geometry: SelectionGeometry, end: SelectionEnd, grab: AppPoint, send: (event: InputEvent) => void) {
    this.end = end;
    this.#send = send;
    const dragged = caretPoint(geometry[end]);
    this.#offset = { x: grab.x - dragged.x, y: grab.y - dragged.y };
    this.#last = dragged;
    if (end === 'focus') {
      // Shift+press extends from the anchor: the selection is unchanged until the finger moves.
      this.#pointer('down', dragged, { ...NO_MODS, shift: true });
    } else {
      // Press at the focus (the selection collapses there, now the fixed end), drag back to where the anchor was.
      this.#pointer('down', caretPoint(geometry.focus), { ...NO_MODS });
      this.#pointer('move', dragged, { ...NO_MODS });
    }
  }

  /** Where the dragged caret is now (app coordinates). */
  get point(): AppPoint {
    return this.#last;
  }

  move(finger: AppPoint): void {
    if (this.#done) return;
    const p = { x: round2(finger.x - this.#offset.x), y: round2(finger.y - this.#offset.y) };
    if (p.x === this.#last.x && p.y === this.#last.y) return;
    this.#last = p;
    this.#pointer('move', p, { ...NO_MODS });
  }

  /** Lifts the finger (or the touch was cancelled): the selection stays where the last move put it. */
  finish(): void {
    if (this.#done) return;
    this.#done = true;
    this.#pointer('up', this.#last, { ...NO_MODS });
  }

  #pointer(action: 'down' | 'move' | 'up', p: AppPoint, mods: Modifiers): void {
    const event: InputEvent = {
      type: 'pointer',
      action,
      x: round2(p.x),
      y: round2(p.y),
      button: 0,
      buttons: action === 'up' ? 0 : 1,
      mods,
      pointerType: 'touch',
    };
    if (action !== 'move') event.detail = 1;
    this.#send(event);
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
