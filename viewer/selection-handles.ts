// Selection handles over the video on touch screens: two 44 px targets at the
// ends of the selection the shown replica's app reports (apps that report no
// geometry get none). Dragging one sends pointer inputs (handle-drag.ts), so
// the selection changes through the log; while dragging, the handle follows
// the finger, and afterwards it waits for geometry that includes the drag.
import type { InputEvent } from '../protocol/input.js';
import type { SelectionGeometry } from '../protocol/selection.js';
import type { ReplicaInfo } from '../protocol/session.js';
import { mapToApp, type AppSize } from './coords.js';
import { h } from './dom.js';
import { HandleDrag, placeHandles, type PlacedHandle } from './handle-drag.js';

export interface SelectionHandlesOptions {
  stage: HTMLElement;
  appSize: () => AppSize;
  liveReplicaId: () => string | null;
  /** The highest acknowledged input seq: geometry older than a finished drag is not shown. */
  ackedSeq: () => number;
  /** Touch screen and allowed to send input. */
  enabled: () => boolean;
  send: (event: InputEvent) => void;
}

/** How long after a drag geometry from before it stays hidden (it normally arrives within a status interval). */
const HOLD_MS = 1500;

interface Reported {
  seq: number;
  geometry: SelectionGeometry | null;
}

export class SelectionHandles {
  readonly #opts: SelectionHandlesOptions;
  readonly #byReplica = new Map<string, Reported>();
  readonly #elements: [HTMLElement, HTMLElement];
  #drag: { drag: HandleDrag; element: HTMLElement; pointerId: number } | null = null;
  /**
   * After a drag: show no geometry from before its inputs, for a while (an unchanged selection is not
   * reported again, so the hold must end by itself).
   */
  #notBefore = 0;
  #holdTimer: ReturnType<typeof setTimeout> | null = null;

  constructor(opts: SelectionHandlesOptions) {
    this.#opts = opts;
    const make = (which: 'start' | 'end'): HTMLElement =>
      h('div', { class: `sel-handle sel-handle-${which}`, 'data-testid': `selection-handle-${which}`, hidden: true });
    this.#elements = [make('start'), make('end')];
    for (const el of this.#elements) {
      opts.stage.append(el);
      // The handle takes its touches: the stage's gestures (scroll, tap, long press) never see them.
      el.addEventListener('pointerdown', (e) => this.#down(e, el));
      el.addEventListener('pointermove', (e) => this.#move(e));
      el.addEventListener('pointerup', (e) => this.#up(e));
      el.addEventListener('pointercancel', (e) => this.#up(e));
    }
  }

  /** A replica's geometry at its applied seq (notifications); older reports than the one held are ignored. */
  note(replicaId: string, seq: number, geometry: SelectionGeometry | null): void {
    const held = this.#byReplica.get(replicaId);
    if (held && held.seq > seq) return;
    this.#byReplica.set(replicaId, { seq, geometry });
    this.render();
  }

  /** What the session's replicas reported before this viewer joined. */
  seed(replicas: readonly ReplicaInfo[]): void {
    for (const r of replicas) if (!this.#byReplica.has(r.replicaId)) this.note(r.replicaId, r.appliedSeq, r.selection);
  }

  /** Positions the handles for the shown replica's geometry (also after a switch or a layout change). */
  render(): void {
    if (this.#drag) return; // the dragged handle follows the finger
    const live = this.#opts.liveReplicaId();
    const held = live === null ? undefined : this.#byReplica.get(live);
    const app = this.#opts.appSize();
    const geometry = held && (this.#holdTimer === null || held.seq >= this.#notBefore) ? held.geometry : null;
    if (!this.#opts.enabled() || !geometry || app.width <= 0) {
      // Runs on every session update: an attribute write, even of the same value, invalidates style.
      for (const el of this.#elements) if (!el.hidden) el.hidden = true;
      return;
    }
    const r = this.#opts.stage.getBoundingClientRect();
    const placed = placeHandles(geometry, r, app);
    placed.forEach((p, i) => this.#place(this.#elements[i === 0 ? 0 : 1], p));
  }

  dispose(): void {
    if (this.#holdTimer !== null) clearTimeout(this.#holdTimer);
    this.#drag?.drag.finish();
    this.#drag = null;
    for (const el of this.#elements) el.remove();
  }

  #place(el: HTMLElement, p: PlacedHandle): void {
    el.hidden = !p.visible;
    el.dataset.end = p.end;
    el.style.left = `${p.x}px`;
    el.style.top = `${p.lineBottom}px`;
  }

  #geometry(): SelectionGeometry | null {
    const live = this.#opts.liveReplicaId();
    return (live === null ? undefined : this.#byReplica.get(live))?.geometry ?? null;
  }

  #toApp(e: PointerEvent): { x: number; y: number } {
    const r = this.#opts.stage.getBoundingClientRect();
    return mapToApp(e.clientX, e.clientY, r, this.#opts.appSize(), { extraRows: 0, fit: 'fill' });
  }

  #down(e: PointerEvent, el: HTMLElement): void {
    e.stopPropagation();
    e.preventDefault(); // no compatibility mouse events
    const geometry = this.#geometry();
    const end = el.dataset.end;
    if (this.#drag || !geometry || (end !== 'anchor' && end !== 'focus')) return;
    el.setPointerCapture(e.pointerId);
    // Geometry the drag changes comes from replicas that applied its inputs, all after this seq.
    this.#notBefore = this.#opts.ackedSeq() + 1;
    this.#drag = {
      drag: new HandleDrag(geometry, end, this.#toApp(e), this.#opts.send),
      element: el,
      pointerId: e.pointerId,
    };
  }

  #move(e: PointerEvent): void {
    e.stopPropagation();
    const d = this.#drag;
    if (!d || d.pointerId !== e.pointerId) return;
    e.preventDefault();
    d.drag.move(this.#toApp(e));
    const r = this.#opts.stage.getBoundingClientRect();
    d.element.style.left = `${e.clientX - r.left}px`;
    d.element.style.top = `${e.clientY - r.top - 10}px`;
  }

  #up(e: PointerEvent): void {
    e.stopPropagation();
    const d = this.#drag;
    if (!d || d.pointerId !== e.pointerId) return;
    e.preventDefault();
    d.drag.finish();
    this.#drag = null;
    if (this.#holdTimer !== null) clearTimeout(this.#holdTimer);
    this.#holdTimer = setTimeout(() => {
      this.#holdTimer = null;
      this.render();
    }, HOLD_MS);
    this.render();
  }
}
