// The one family the board's labels use (declared in app.json), loaded on first use.
import { loadFont, type Font } from '../../sdk/index.js';

let font: Font | null = null;

export function uiFont(): Font {
  font ??= loadFont('Lockstep Sans');
  return font;
}
