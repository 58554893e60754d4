// The HTTP side of `lockstep app publish` / `lockstep app list`: upload a packed
// bundle to the server's /api/apps and read the listing. Server answers are
// parsed, never trusted to have a shape.
import { z } from 'zod';
import { BUNDLE_HASH_HEADER, type PublishedAppInfo } from '../../protocol/bundle.js';
import { EXPORT_FORMATS, type ExportFormat } from '../../protocol/export-formats.js';
import { DEFAULT_APP_INPUTS, TOUCH_MODES } from '../../protocol/app-inputs.js';
import { IMPORT_FORMATS } from '../../protocol/input.js';
import type { PackedBundle } from './pack-folder.js';

const InfoSchema = z.object({
  name: z.string(),
  title: z.string(),
  version: z.string(),
  hash: z.string(),
  size: z.number(),
  publisher: z.string(),
  publishedAt: z.number(),
  exports: z.array(z.enum(Object.keys(EXPORT_FORMATS) as [ExportFormat, ...ExportFormat[]])).default([]),
  imports: z.array(z.enum(IMPORT_FORMATS)).default([]),
  inputs: z.object({ keyUps: z.boolean(), touch: z.enum(TOUCH_MODES) }).default({ ...DEFAULT_APP_INPUTS }),
});
const ErrorBodySchema = z.object({ error: z.object({ code: z.string(), message: z.string() }) });

/** The server refused (its typed error code and message), or could not be reached. */
export class PublishError extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'PublishError';
  }
}

async function call(url: string, init: RequestInit): Promise<{ status: number; body: unknown }> {
  let res: Response;
  try {
    res = await fetch(url, init);
  } catch (err) {
    throw new PublishError('unavailable', `cannot reach ${url}: ${err instanceof Error ? err.message : String(err)}`);
  }
  const body: unknown = await res.json().catch(() => null);
  if (!res.ok) {
    const e = ErrorBodySchema.safeParse(body);
    throw new PublishError(
      e.success ? e.data.error.code : 'internal',
      e.success ? e.data.error.message : `HTTP ${res.status}`,
    );
  }
  return { status: res.status, body };
}

export async function publishBundle(
  serverUrl: string,
  token: string,
  packed: PackedBundle,
): Promise<{ app: PublishedAppInfo; created: boolean }> {
  const { status, body } = await call(`${serverUrl}/api/apps`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/octet-stream',
      [BUNDLE_HASH_HEADER]: packed.hash,
    },
    body: new Uint8Array(packed.bytes),
  });
  const parsed = z.object({ app: InfoSchema }).safeParse(body);
  if (!parsed.success) throw new PublishError('internal', 'the server answered something that is not an app');
  return { app: parsed.data.app, created: status === 201 };
}

export async function listPublished(serverUrl: string, token: string): Promise<PublishedAppInfo[]> {
  const { body } = await call(`${serverUrl}/api/apps`, { headers: { authorization: `Bearer ${token}` } });
  const parsed = z.object({ apps: z.array(InfoSchema) }).safeParse(body);
  if (!parsed.success) throw new PublishError('internal', 'the server answered something that is not an app list');
  return parsed.data.apps;
}
