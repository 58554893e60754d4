// A plain key press as the viewer sends it (what the integration tests type).
import { NO_MODS, type InputEvent } from '../../protocol/input.js';

export const keyDown = (ch: string): InputEvent => ({
  type: 'key',
  action: 'down',
  key: ch,
  code: '',
  text: ch,
  mods: NO_MODS,
});

/** Its release (an app whose manifest says `keyUps: false` is never sent one by the viewer). */
export const keyUp = (ch: string): InputEvent => ({ type: 'key', action: 'up', key: ch, code: '', mods: NO_MODS });
