// The app manifest (`app.json` in the app folder): who the app is, where its
// code starts, which surface sizes it supports, which fonts it ships and which
// inputs it reads.
import { z } from 'zod';
import { TOUCH_MODES } from '../../protocol/app-inputs.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../protocol/export-formats.js';
import { IMPORT_FORMATS } from '../../protocol/input.js';
import { LIMITS } from '../../protocol/limits.js';
import { SdkError } from './errors.js';
import { SURFACE_LIMITS } from './limits.js';

export { EXPORT_FORMATS, type ExportFormat } from '../../protocol/export-formats.js';

/** The fonts every Lockstep host carries; an app can use them without shipping a file. */
export const PLATFORM_FONTS = ['DejaVuSans'] as const;

const FontAssetSchema = z.union([
  z.object({ family: z.string().min(1).max(64), platform: z.enum(PLATFORM_FONTS) }).strict(),
  z
    .object({
      family: z.string().min(1).max(64),
      /** A .ttf/.otf path inside the app folder. */
      file: z
        .string()
        .min(1)
        .max(200)
        .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w./-]+\.(ttf|otf)$/, 'a relative .ttf/.otf path inside the app folder'),
    })
    .strict(),
]);
export type FontAsset = z.infer<typeof FontAssetSchema>;

const width = z.number().int().min(SURFACE_LIMITS.minWidth).max(SURFACE_LIMITS.maxWidth);
const height = z.number().int().min(SURFACE_LIMITS.minHeight).max(SURFACE_LIMITS.maxHeight);

export const AppManifestSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(LIMITS.maxAppNameLength)
      .regex(/^[a-z][a-z0-9-]*$/, 'lower-case letters, digits and dashes'),
    title: z.string().min(1).max(64),
    version: z.string().regex(/^\d+\.\d+\.\d+$/, 'semver major.minor.patch'),
    /** The ES module, relative to the app folder, whose default export is the AppDefinition. */
    entry: z
      .string()
      .min(1)
      .max(200)
      .regex(/^(?!\/)(?!.*(^|\/)\.\.(\/|$))[\w./-]+\.(m?js|ts)$/, 'a relative module path inside the app folder'),
    surface: z
      .object({ minWidth: width, minHeight: height, maxWidth: width, maxHeight: height })
      .strict()
      .refine((s) => s.minWidth <= s.maxWidth && s.minHeight <= s.maxHeight, 'min sizes must not exceed max sizes'),
    fonts: z.array(FontAssetSchema).max(8).default([]),
    /** Formats `exportDocument` produces (`png` is rendered by the host). */
    exports: z
      .array(z.enum(Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]]))
      .max(4)
      .default([]),
    /** Files a new session can start from; they arrive as `import` inputs (see docs/apps.md). */
    imports: z.array(z.enum(IMPORT_FORMATS)).max(4).default([]),
    /**
     * Whether `apply` reads key releases (`key` inputs with action `up`). Default true: an app that says
     * nothing gets them. An app that acts on presses only says false, and viewers neither send nor the
     * server logs its key-ups (protocol/app-inputs.ts): half the inputs of every keystroke.
     */
    keyUps: z.boolean().default(true),
    /** One-finger touch: `text` (phone gestures: tap = caret, drag = scroll) or `draw` (the raw pointer, default). */
    touch: z.enum(TOUCH_MODES).default('draw'),
  })
  .strict();
export type AppManifest = z.infer<typeof AppManifestSchema>;

export class ManifestError extends SdkError {}

/** Parses manifest JSON text; every problem is a ManifestError naming the field. */
export function parseManifest(text: string): AppManifest {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ManifestError(`app manifest: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = AppManifestSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ManifestError(
      `app manifest: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`,
    );
  }
  return parsed.data;
}
