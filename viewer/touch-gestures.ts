// One-finger touch on a text app, the way phones behave: a tap places the
// caret, a drag scrolls (wheel inputs), a long press selects the word under
// the finger and dragging after it extends the selection word by word. Pure
// over points and an injected timer, so it is tested with a fake clock.
import { NO_MODS, type InputEvent } from '../protocol/input.js';

/** Finger travel (CSS px) that makes a touch a drag rather than a tap. */
export const TOUCH_SLOP_PX = 10;
/** Held this long without moving: a long press. */
export const LONG_PRESS_MS = 500;
/** A scroll released faster than this (app px per ms) keeps going, slowing down (a fling). */
export const FLING_MIN_SPEED = 0.3;
const FLING_STEP_MS = 33;
/** Speed kept per step: about 0.6 s from a fast flick to a stop. */
const FLING_DECAY = 0.9;
const FLING_STOP_SPEED = 0.05;

export interface TouchPoint {
  /** App coordinates. */
  x: number;
  y: number;
  /** Screen (CSS pixel) coordinates, for the slop. */
  clientX: number;
  clientY: number;
}

export interface TouchGesturesOptions {
  send: (event: InputEvent) => void;
  /** Starts a timer; returns its cancel. */
  setTimer: (fn: () => void, ms: number) => () => void;
  /** Milliseconds, for the fling speed. */
  now: () => number;
  /** A tap or long press moved the app's caret. */
  onCaretMoved?: () => void;
}

type Phase =
  | { kind: 'idle' }
  /** `caught`: this touch stopped a fling, so lifting it is no tap. */
  | { kind: 'pending'; start: TouchPoint; cancelTimer: () => void; caught: boolean }
  | { kind: 'scrolling'; last: TouchPoint; lastAt: number; vx: number; vy: number }
  | { kind: 'selecting'; last: TouchPoint };

export class TouchGestures {
  readonly #opts: TouchGesturesOptions;
  #phase: Phase = { kind: 'idle' };
  #stopFling: (() => void) | null = null;

  constructor(opts: TouchGesturesOptions) {
    this.#opts = opts;
  }

  down(p: TouchPoint): void {
    const caught = this.#stopFling !== null;
    this.cancel(); // also stops a fling, as a finger on a moving list does
    const cancelTimer = this.#opts.setTimer(() => this.#longPress(p), LONG_PRESS_MS);
    this.#phase = { kind: 'pending', start: p, cancelTimer, caught };
  }

  move(p: TouchPoint): void {
    const phase = this.#phase;
    switch (phase.kind) {
      case 'idle':
        return;
      case 'pending':
        if (Math.hypot(p.clientX - phase.start.clientX, p.clientY - phase.start.clientY) <= TOUCH_SLOP_PX) return;
        phase.cancelTimer();
        this.#phase = { kind: 'scrolling', last: phase.start, lastAt: this.#opts.now(), vx: 0, vy: 0 };
        this.#scroll(p);
        return;
      case 'scrolling':
        this.#scroll(p);
        return;
      case 'selecting':
        phase.last = p;
        this.#pointer('move', p, 1);
        return;
    }
  }

  up(p: TouchPoint): void {
    const phase = this.#phase;
    this.#phase = { kind: 'idle' };
    switch (phase.kind) {
      case 'idle':
        return;
      case 'scrolling':
        this.#fling(phase.last, phase.vx, phase.vy);
        return;
      case 'pending':
        phase.cancelTimer();
        if (phase.caught) return;
        this.#pointer('down', phase.start, 1);
        this.#pointer('up', phase.start, 1);
        this.#opts.onCaretMoved?.();
        return;
      case 'selecting':
        this.#pointer('up', p, 2);
        return;
    }
  }

  /** The touch was taken away (a second finger, pointercancel): nothing more is sent, an open selection drag ends. */
  cancel(): void {
    this.#stopFling?.();
    this.#stopFling = null;
    const phase = this.#phase;
    this.#phase = { kind: 'idle' };
    if (phase.kind === 'pending') phase.cancelTimer();
    if (phase.kind === 'selecting') this.#pointer('up', phase.last, 2);
  }

  #longPress(p: TouchPoint): void {
    if (this.#phase.kind !== 'pending') return;
    this.#phase = { kind: 'selecting', last: p };
    // A double click is how apps pick a word; the drag that follows extends by words.
    this.#pointer('down', p, 2);
    this.#opts.onCaretMoved?.();
  }

  #scroll(p: TouchPoint): void {
    const phase = this.#phase;
    if (phase.kind !== 'scrolling') return;
    const last = phase.last;
    const at = this.#opts.now();
    const dt = at - phase.lastAt;
    phase.last = p;
    phase.lastAt = at;
    // The content follows the finger: moving up scrolls down.
    const dx = round2(last.x - p.x);
    const dy = round2(last.y - p.y);
    if (dt > 0) {
      // Smoothed, so one jittery sample does not decide the fling.
      phase.vx = 0.5 * phase.vx + 0.5 * (dx / dt);
      phase.vy = 0.5 * phase.vy + 0.5 * (dy / dt);
    }
    this.#wheel(p, dx, dy);
  }

  #wheel(p: TouchPoint, dx: number, dy: number): void {
    if (dx === 0 && dy === 0) return;
    this.#opts.send({ type: 'wheel', x: p.x, y: p.y, dx, dy, mods: { ...NO_MODS } });
  }

  /** Keeps scrolling after a fast release, slowing down, until stopped or a new touch. */
  #fling(at: TouchPoint, vx: number, vy: number): void {
    if (Math.hypot(vx, vy) < FLING_MIN_SPEED) return;
    const step = (): void => {
      this.#wheel(at, round2(vx * FLING_STEP_MS), round2(vy * FLING_STEP_MS));
      vx *= FLING_DECAY;
      vy *= FLING_DECAY;
      this.#stopFling = Math.hypot(vx, vy) < FLING_STOP_SPEED ? null : this.#opts.setTimer(step, FLING_STEP_MS);
    };
    this.#stopFling = this.#opts.setTimer(step, FLING_STEP_MS);
  }

  #pointer(action: 'down' | 'move' | 'up', p: TouchPoint, detail: number): void {
    const event: InputEvent = {
      type: 'pointer',
      action,
      x: p.x,
      y: p.y,
      button: 0,
      buttons: action === 'up' ? 0 : 1,
      mods: { ...NO_MODS },
      pointerType: 'touch',
    };
    if (action !== 'move') event.detail = detail;
    this.#opts.send(event);
  }
}

function round2(v: number): number {
  return Math.round(v * 100) / 100;
}
