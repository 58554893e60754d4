// Captures keyboard, mouse, touch, wheel and paste on the stage and turns
// them into InputEvents in app coordinates. Focus sits in the stage's hidden
// textarea (soft-keyboard.ts) so phones raise their keyboard. Browser
// shortcuts (reload, devtools, paste) stay with the browser; everything else
// is kept from it so keys don't scroll or navigate the page.
import { LIMITS } from '../protocol/limits.js';
import type { InputEvent, PointerInput } from '../protocol/input.js';
import type { TouchMode } from '../protocol/app-inputs.js';
import { mapToApp, type AppSize } from './coords.js';
import { keyDisposition, keyInput, modsOf } from './key-mapping.js';
import { SoftKeyboard } from './soft-keyboard.js';
import { TouchGestures, type TouchPoint } from './touch-gestures.js';

export interface InputCaptureOptions {
  /** The cropping container: focusable, shows exactly the app surface. */
  stage: HTMLElement;
  appSize: () => AppSize;
  /** Phone gestures (text apps) or the raw pointer (drawing apps). */
  touchMode: () => TouchMode;
  send: (event: InputEvent) => void;
  /** A user-visible problem (e.g. a paste too large). */
  onError: (message: string) => void;
}

const LINE_PX = 16;
/** Mouse events this soon after a touch are the browser's compatibility copies of it. */
const TOUCH_MOUSE_GUARD_MS = 800;

export class InputCapture {
  /** Keys whose keydown went to the app: only their keyups are sent. */
  private readonly heldKeys = new Set<string>();
  private buttonsHeld = 0;
  private lastTouchAt = Number.NEGATIVE_INFINITY;
  /** The touch/pen pointer being tracked (the primary one; extra fingers are ignored). */
  private touchPointer: number | null = null;
  private readonly cleanups: Array<() => void> = [];
  private readonly soft: SoftKeyboard;
  private readonly gestures: TouchGestures;

  constructor(private readonly opts: InputCaptureOptions) {
    const { stage } = opts;
    if (!stage.hasAttribute('tabindex')) stage.tabIndex = 0;
    this.soft = new SoftKeyboard({ stage, send: opts.send });
    this.cleanups.push(() => this.soft.dispose());
    this.gestures = new TouchGestures({
      send: opts.send,
      setTimer: (fn, ms) => {
        const t = setTimeout(fn, ms);
        return () => clearTimeout(t);
      },
      now: () => performance.now(),
      onCaretMoved: () => this.soft.reset(),
    });
    this.listen(stage, 'keydown', (e) => this.onKey(e, 'down'));
    this.listen(stage, 'keyup', (e) => this.onKey(e, 'up'));
    // No browser panning or pinch-zoom on the stage: touches are app input.
    stage.style.touchAction = 'none';
    this.listen(stage, 'pointerdown', (e) => {
      // Keep receiving moves and the button-up when a drag leaves the stage.
      if (e.pointerType === 'mouse') stage.setPointerCapture(e.pointerId);
      else this.onTouch(e, 'down');
    });
    this.listen(stage, 'pointermove', (e) => this.onTouch(e, 'move'));
    this.listen(stage, 'pointerup', (e) => this.onTouch(e, 'up'));
    this.listen(stage, 'pointercancel', (e) => this.onTouch(e, 'up', true));
    this.listen(stage, 'mousedown', (e) => this.onMouse(e, 'down'));
    this.listen(stage, 'mousemove', (e) => this.onMouse(e, 'move'));
    this.listen(stage, 'mouseup', (e) => this.onMouse(e, 'up'));
    this.listen(stage, 'contextmenu', (e) => e.preventDefault());
    this.listen(stage, 'wheel', (e) => this.onWheel(e), { passive: false });
    this.listen(document, 'paste', (e) => this.onPaste(e));
    this.listen(stage, 'focusout', (e) => {
      if (!(e.relatedTarget instanceof Node && stage.contains(e.relatedTarget))) this.releaseAll();
    });
    this.listen(window, 'blur', () => this.releaseAll());
    this.listen(document, 'visibilitychange', () => {
      if (document.visibilityState === 'hidden') this.releaseAll();
    });
  }

  /** Focuses the hidden textarea: keys and soft-keyboard text both arrive through it. */
  focus(): void {
    this.soft.focus();
  }

  /** Releases every key and button on every replica (stream switch, blur). */
  releaseAll(): void {
    this.heldKeys.clear();
    this.buttonsHeld = 0;
    this.touchPointer = null;
    this.gestures.cancel();
    this.opts.send({ type: 'release-all' });
  }

  dispose(): void {
    for (const c of this.cleanups.splice(0)) c();
  }

  private listen<K extends keyof (HTMLElementEventMap & DocumentEventMap)>(
    target: HTMLElement | Document | Window,
    type: K,
    fn: (e: (HTMLElementEventMap & DocumentEventMap)[K]) => void,
    options?: AddEventListenerOptions,
  ): void {
    const handler = fn as EventListener;
    target.addEventListener(type, handler, options);
    this.cleanups.push(() => target.removeEventListener(type, handler, options));
  }

  private onKey(e: KeyboardEvent, action: 'down' | 'up'): void {
    const id = e.code || e.key;
    if (action === 'down') {
      if (keyDisposition(e) === 'browser') return;
      e.preventDefault();
      this.heldKeys.add(id);
      this.soft.reset(); // the app's caret or text changed without the textarea
      this.opts.send(keyInput(e, 'down'));
      return;
    }
    if (!this.heldKeys.delete(id)) return; // its keydown went to the browser
    e.preventDefault();
    this.opts.send(keyInput(e, 'up'));
  }

  /** Touch and pen: pointer events become pointer inputs (down/move/up) of the primary pointer. */
  private onTouch(e: PointerEvent, action: PointerInput['action'], cancelled = false): void {
    if (e.pointerType === 'mouse') return;
    const text = e.pointerType === 'touch' && this.opts.touchMode() === 'text';
    if (!e.isPrimary) {
      // A second finger: not a one-finger gesture any more.
      if (text && action === 'down') this.gestures.cancel();
      return;
    }
    this.lastTouchAt = performance.now();
    if (action === 'down') {
      this.touchPointer = e.pointerId;
      this.opts.stage.setPointerCapture(e.pointerId);
      this.focus();
    } else if (this.touchPointer !== e.pointerId) {
      return; // a pen hovering, or a pointer whose down we never saw
    }
    // Cancelling pointerdown also stops the compatibility mouse events.
    e.preventDefault();
    if (action === 'up') this.touchPointer = null;
    const p = this.toApp(e);
    if (text) {
      const point: TouchPoint = { x: p.x, y: p.y, clientX: e.clientX, clientY: e.clientY };
      if (cancelled) this.gestures.cancel();
      else this.gestures[action](point);
      return;
    }
    if (action === 'down') this.soft.reset();
    const input: PointerInput = {
      type: 'pointer',
      action,
      x: p.x,
      y: p.y,
      button: 0,
      // A touch in contact is the main button held.
      buttons: action === 'up' ? 0 : Math.max(1, e.buttons & 31),
      mods: modsOf(e),
      pointerType: e.pointerType === 'pen' ? 'pen' : 'touch',
    };
    if (action !== 'move') input.detail = 1;
    this.opts.send(input);
  }

  private onMouse(e: MouseEvent, action: PointerInput['action']): void {
    if (performance.now() - this.lastTouchAt < TOUCH_MOUSE_GUARD_MS) return; // already sent as touch
    const p = this.toApp(e);
    if (action === 'down') {
      e.preventDefault(); // no text selection or image drag; focus by hand instead
      this.focus();
      this.soft.reset(); // a click may move the app's caret
    } else if (action === 'up') {
      e.preventDefault();
    } else if (!p.inside && e.buttons === 0) {
      return; // hovering outside the app surface (captured pointer after a drag)
    }
    const button = Math.min(4, Math.max(0, action === 'move' ? 0 : e.button));
    if (action === 'down') this.buttonsHeld |= 1 << button;
    if (action === 'up') this.buttonsHeld &= ~(1 << button);
    const input: PointerInput = {
      type: 'pointer',
      action,
      x: p.x,
      y: p.y,
      button,
      buttons: e.buttons & 31,
      mods: modsOf(e),
      pointerType: 'mouse',
    };
    if (action !== 'move') input.detail = Math.min(10, Math.max(0, e.detail));
    this.opts.send(input);
  }

  private onWheel(e: WheelEvent): void {
    e.preventDefault(); // the page must not scroll under the app
    const p = this.toApp(e);
    const unit =
      e.deltaMode === WheelEvent.DOM_DELTA_LINE
        ? LINE_PX
        : e.deltaMode === WheelEvent.DOM_DELTA_PAGE
          ? this.opts.appSize().height
          : 1;
    this.opts.send({
      type: 'wheel',
      x: p.x,
      y: p.y,
      dx: clamp(e.deltaX * unit),
      dy: clamp(e.deltaY * unit),
      mods: modsOf(e),
    });
  }

  private onPaste(e: ClipboardEvent): void {
    const active = document.activeElement;
    if (active !== this.opts.stage && !this.soft.contains(active)) return;
    e.preventDefault();
    const text = e.clipboardData?.getData('text/plain') ?? '';
    if (text.length === 0) return;
    if (text.length > LIMITS.maxPasteChars) {
      this.opts.onError(
        `Paste too large: ${text.length.toLocaleString()} characters (limit ${LIMITS.maxPasteChars.toLocaleString()}).`,
      );
      return;
    }
    // JSON escaping can grow text past the socket's message cap.
    if (new TextEncoder().encode(JSON.stringify(text)).length > LIMITS.maxMessageBytes - 1024) {
      this.opts.onError('Paste too large to send.');
      return;
    }
    this.opts.send({ type: 'paste', text });
  }

  private toApp(e: MouseEvent): { x: number; y: number; inside: boolean } {
    const r = this.opts.stage.getBoundingClientRect();
    // The stage is the crop box: it shows the app surface only, stretched to fill.
    return mapToApp(e.clientX, e.clientY, r, this.opts.appSize(), { extraRows: 0, fit: 'fill' });
  }
}

function clamp(v: number): number {
  return Math.max(-100_000, Math.min(100_000, v));
}
