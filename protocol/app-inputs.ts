// What an app says in its manifest (render/sdk/manifest.ts) about the inputs
// it reads, as the server reports it in SessionInfo: the one rule below decides
// whether an input is worth sending and logging at all, for the viewer (which
// then does not send it) and the server (which then does not log it). Only
// types are imported: the viewer bundle carries this file.
import type { InputEvent } from './input.js';

/**
 * How a viewer treats one-finger touch for an app: `text` apps get phone
 * gestures (tap = caret, drag = scroll, long press = select a word); `draw`
 * apps get the raw pointer (a finger paints).
 */
export const TOUCH_MODES = ['text', 'draw'] as const;
export type TouchMode = (typeof TOUCH_MODES)[number];

export interface AppInputs {
  /**
   * The app reads key releases (`key` inputs with action `up`). False for an
   * app that acts on key presses only: every keystroke is then one input, not two.
   */
  keyUps: boolean;
  touch: TouchMode;
}

/** An app whose manifest says nothing: every input is delivered, a finger is a pointer. */
export const DEFAULT_APP_INPUTS: Readonly<AppInputs> = Object.freeze({ keyUps: true, touch: 'draw' });

/**
 * Whether `event` can change the state of an app with these traits. `undefined`
 * (a server that does not report them) wants everything: nothing an app may read
 * is ever dropped on a guess. Key presses (also auto-repeats) and `release-all`
 * always go.
 */
export function wantsInput(app: Pick<AppInputs, 'keyUps'> | undefined, event: InputEvent): boolean {
  return !(event.type === 'key' && event.action === 'up' && app?.keyUps === false);
}

/** The touch mode to use, from what the server said (anything but `text` is the raw pointer). */
export function touchModeOf(app: Pick<AppInputs, 'touch'> | undefined): TouchMode {
  return app?.touch === 'text' ? 'text' : 'draw';
}
