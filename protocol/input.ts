// Input events: what a viewer captures, what the sequencer logs, what every
// replica applies. Apps never read clocks: `time` is stamped by the sequencer.
import { z } from 'zod';
import { LIMITS } from './limits.js';

export const ModifiersSchema = z
  .object({
    shift: z.boolean(),
    ctrl: z.boolean(),
    alt: z.boolean(),
    meta: z.boolean(),
  })
  .strict();
export type Modifiers = z.infer<typeof ModifiersSchema>;

const coord = z.number().finite().min(-100_000).max(100_000);

export const KeyInputSchema = z
  .object({
    type: z.literal('key'),
    action: z.enum(['down', 'up']),
    /** KeyboardEvent.key: the layout-resolved meaning ("a", "é", "Enter", "Dead"). */
    key: z.string().min(1).max(LIMITS.maxKeyLength),
    /** KeyboardEvent.code: the physical key ("KeyQ" on AZERTY for "a"). */
    code: z.string().max(LIMITS.maxKeyLength),
    /** Text the key produces, if any (after dead-key composition). */
    text: z.string().max(LIMITS.maxKeyLength).optional(),
    mods: ModifiersSchema,
    repeat: z.boolean().optional(),
  })
  .strict();

export const PointerInputSchema = z
  .object({
    type: z.literal('pointer'),
    action: z.enum(['down', 'up', 'move']),
    /** App coordinates (CSS pixels of the app surface), not screen pixels. */
    x: coord,
    y: coord,
    /** Which button changed: 0 main, 1 middle, 2 secondary. */
    button: z.number().int().min(0).max(4),
    /** Bitmask of buttons held (MouseEvent.buttons). */
    buttons: z.number().int().min(0).max(31),
    mods: ModifiersSchema,
    pointerType: z.enum(['mouse', 'touch', 'pen']).optional(),
    /** Click count for double/triple click (MouseEvent.detail). */
    detail: z.number().int().min(0).max(10).optional(),
  })
  .strict();

export const WheelInputSchema = z
  .object({
    type: z.literal('wheel'),
    x: coord,
    y: coord,
    dx: z.number().finite().min(-100_000).max(100_000),
    dy: z.number().finite().min(-100_000).max(100_000),
    mods: ModifiersSchema,
  })
  .strict();

export const PasteInputSchema = z
  .object({
    type: z.literal('paste'),
    text: z.string().max(LIMITS.maxPasteChars),
  })
  .strict();

/**
 * A file brought into a new session, cut into parts by the server
 * (server/document-import.ts) and applied by apps that list the file's format
 * under `imports` in their manifest: like paste, it is an input in the log, so
 * every replica — and one rebuilt later from snapshot and tail — gets it.
 */
export const IMPORT_FORMATS = ['txt', 'md', 'csv', 'png', 'jpeg'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export type ImageImportFormat = Extract<ImportFormat, 'png' | 'jpeg'>;
export type TextImportFormat = Exclude<ImportFormat, ImageImportFormat>;
export function isImageImport(format: ImportFormat): format is ImageImportFormat {
  return format === 'png' || format === 'jpeg';
}
/** File name extensions and the format each is read as (the viewer's picker and the server agree on these). */
export const IMPORT_EXTENSIONS: Readonly<Record<string, ImportFormat>> = {
  txt: 'txt',
  md: 'md',
  csv: 'csv',
  png: 'png',
  jpg: 'jpeg',
  jpeg: 'jpeg',
};
/**
 * What a part carries: text (txt/md), whole CSV records (csv), or a band of an
 * image's rows as straight RGBA bytes, base64 (rgba: png and jpeg files are
 * decoded once, by the server, so every replica gets the same pixels whatever
 * image libraries its host has).
 */
export const IMPORT_PART_FORMATS = ['txt', 'md', 'csv', 'rgba'] as const;
export type ImportPartFormat = (typeof IMPORT_PART_FORMATS)[number];
export const ImportInputSchema = z
  .object({
    type: z.literal('import'),
    format: z.enum(IMPORT_PART_FORMATS),
    /** csv: the grid row of the part's first record; rgba: the image row of the band's first row; 0 for text. */
    row: z.number().int().min(0).max(1_000_000),
    /** rgba only: the whole image's size in pixels (at most LIMITS.maxImportImagePixels). */
    width: z.number().int().min(1).max(LIMITS.maxViewportWidth).optional(),
    height: z.number().int().min(1).max(LIMITS.maxViewportHeight).optional(),
    /** txt/md: text; csv: whole records; rgba: base64 of whole rows, width × 4 bytes each. */
    data: z.string().max(LIMITS.maxPasteChars),
  })
  .strict();

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Bytes the base64 text `data` decodes to (it must match BASE64). */
export function base64Length(data: string): number {
  const pad = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return (data.length / 4) * 3 - pad;
}

/** Why an import part is inconsistent (an image band must fit its image), or null. Arithmetic only: nothing is decoded. */
export function importPartProblem(ev: ImportInput): string | null {
  if (ev.format !== 'rgba') {
    return ev.width === undefined && ev.height === undefined ? null : 'only rgba parts carry width and height';
  }
  const { width, height } = ev;
  if (width === undefined || height === undefined) return 'an rgba part needs the image width and height';
  if (width * height > LIMITS.maxImportImagePixels) return `the image exceeds ${LIMITS.maxImportImagePixels} pixels`;
  if (!BASE64.test(ev.data)) return 'rgba data is not base64';
  const bytes = base64Length(ev.data);
  const rowBytes = width * 4;
  if (bytes === 0 || bytes % rowBytes !== 0) return `rgba data is not whole rows of ${rowBytes} bytes`;
  if (ev.row + bytes / rowBytes > height)
    return `rows ${ev.row}..${ev.row + bytes / rowBytes} exceed the image height ${height}`;
  return null;
}

export const ResizeInputSchema = z
  .object({
    type: z.literal('resize'),
    width: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportWidth),
    height: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportHeight),
  })
  .strict();

/** Released on every replica when the viewer switches streams or disconnects: no stuck keys. */
export const ReleaseAllInputSchema = z.object({ type: z.literal('release-all') }).strict();

export const InputEventSchema = z
  .discriminatedUnion('type', [
    KeyInputSchema,
    PointerInputSchema,
    WheelInputSchema,
    PasteInputSchema,
    ResizeInputSchema,
    ReleaseAllInputSchema,
    ImportInputSchema,
  ])
  .superRefine((ev, ctx) => {
    const problem = ev.type === 'import' ? importPartProblem(ev) : null;
    if (problem !== null) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ['data'], message: problem });
  });
export type InputEvent = z.infer<typeof InputEventSchema>;
export type KeyInput = z.infer<typeof KeyInputSchema>;
export type PointerInput = z.infer<typeof PointerInputSchema>;
export type WheelInput = z.infer<typeof WheelInputSchema>;
export type PasteInput = z.infer<typeof PasteInputSchema>;
export type ImportInput = z.infer<typeof ImportInputSchema>;
export type ResizeInput = z.infer<typeof ResizeInputSchema>;

/** An input after sequencing: what replicas apply, in `seq` order. */
export const SequencedInputSchema = z
  .object({
    seq: z.number().int().min(1),
    /** Milliseconds since the Unix epoch, stamped by the sequencer (the only clock apps see). */
    time: z.number().int().min(0),
    clientId: z.string().min(1).max(LIMITS.maxLoggedClientIdLength),
    clientSeq: z.number().int().min(0),
    event: InputEventSchema,
  })
  .strict();
export type SequencedInput = z.infer<typeof SequencedInputSchema>;

export const NO_MODS: Modifiers = Object.freeze({ shift: false, ctrl: false, alt: false, meta: false });
