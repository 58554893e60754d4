// Import: start a session from a file on this machine (.txt/.md into the
// writer, .csv into the sheet, .png/.jpg/.jpeg into paint). The server checks and logs the file's content
// as inputs (server/document-import.ts); the viewer only refuses early what
// the server would refuse anyway, with the same limits.
import { IMPORT_EXTENSIONS, type ImportFormat } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import type { ImportedSession } from '../protocol/rest.js';

/** What the file picker offers. */
export const IMPORT_ACCEPT = Object.keys(IMPORT_EXTENSIONS)
  .map((ext) => `.${ext}`)
  .join(',');

export function importFormatOf(fileName: string): ImportFormat | null {
  const ext = /\.([a-z0-9]+)$/i.exec(fileName)?.[1]?.toLowerCase();
  return ext !== undefined && Object.hasOwn(IMPORT_EXTENSIONS, ext) ? (IMPORT_EXTENSIONS[ext] ?? null) : null;
}

export async function importFile(file: File, token: string | null): Promise<ImportedSession> {
  const format = importFormatOf(file.name);
  if (!format) throw new Error(`${file.name}: only ${IMPORT_ACCEPT} files can be imported`);
  if (file.size > LIMITS.maxImportBytes) {
    throw new Error(`${file.name} is ${file.size} bytes; imports are limited to ${LIMITS.maxImportBytes}`);
  }
  const res = await fetch(`/api/sessions/import?format=${format}`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream', ...(token ? { Authorization: `Bearer ${token}` } : {}) },
    body: file,
    cache: 'no-store',
  });
  if (!res.ok) {
    const body = (await res.json().catch(() => ({}))) as { error?: { message?: string } };
    throw new Error(body.error?.message ?? `${res.status} ${res.statusText}`);
  }
  return (await res.json()) as ImportedSession;
}
