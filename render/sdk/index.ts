// The Lockstep app SDK: everything an app may use. An app imports only this
// module (and its own files, and pure libraries it bundles); see docs/apps.md.
export { defineApp, type AppDefinition, type Viewport } from './app-definition.js';
export { DamageTracker, type FrameInfo, type FramePart, type Rect } from './damage.js';
export type { CanvasFillRule, DrawingContext, PixelData, Surface } from './drawing.js';
export { Base64Error, decodeBase64 } from './base64.js';
export { FontNotFoundError, NoHostError, SdkError, Utf8Error } from './errors.js';
export type { Font, FontMetrics } from './fonts.js';
export { createSurface, loadFont } from './host.js';
export {
  NO_MODS,
  type AppInput,
  type InputEvent,
  type KeyInput,
  type Modifiers,
  type ImportInput,
  type PasteInput,
  type PointerInput,
  type ResizeInput,
  type WheelInput,
} from './input.js';
export { CsvError, csvField, parseCsv, toCsvText } from './csv.js';
export { typedText } from './keys.js';
export { EXPORT_FORMATS, type ExportFormat } from './manifest.js';
export type { CaretRect, SelectionGeometry } from './selection.js';
export { clampViewport, MAX_IMPORT_IMAGE_PIXELS, MAX_PASTE_CHARS, SURFACE_LIMITS } from './limits.js';
export { decodeUtf8, encodeUtf8 } from './utf8.js';
export { sha256 } from './sha256.js';
