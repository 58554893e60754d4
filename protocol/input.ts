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
 * (server/document-import.ts) and applied by apps that list the format under
 * `imports` in their manifest: like paste, it is an input in the log, so every
 * replica — and one rebuilt later from snapshot and tail — gets it.
 */
export const IMPORT_FORMATS = ['txt', 'md', 'csv'] as const;
export type ImportFormat = (typeof IMPORT_FORMATS)[number];
export const ImportInputSchema = z
  .object({
    type: z.literal('import'),
    format: z.enum(IMPORT_FORMATS),
    /** csv: the grid row of the part's first record (0 for text). */
    row: z.number().int().min(0).max(1_000_000),
    /** txt/md: text; csv: whole records. */
    data: z.string().max(LIMITS.maxPasteChars),
  })
  .strict();

export const ResizeInputSchema = z
  .object({
    type: z.literal('resize'),
    width: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportWidth),
    height: z.number().int().min(LIMITS.minViewport).max(LIMITS.maxViewportHeight),
  })
  .strict();

/** Released on every replica when the viewer switches streams or disconnects: no stuck keys. */
export const ReleaseAllInputSchema = z.object({ type: z.literal('release-all') }).strict();

export const InputEventSchema = z.discriminatedUnion('type', [
  KeyInputSchema,
  PointerInputSchema,
  WheelInputSchema,
  PasteInputSchema,
  ResizeInputSchema,
  ReleaseAllInputSchema,
  ImportInputSchema,
]);
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
