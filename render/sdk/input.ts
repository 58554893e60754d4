// Input events as an app receives them, in log order. `time` (ms since the
// Unix epoch, stamped by the sequencer) is the only clock an app ever sees.
export type {
  ImportInput,
  InputEvent,
  KeyInput,
  Modifiers,
  PasteInput,
  PointerInput,
  ResizeInput,
  SequencedInput as AppInput,
  WheelInput,
} from '../../protocol/input.js';
export { NO_MODS } from '../../protocol/input.js';
