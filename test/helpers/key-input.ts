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
