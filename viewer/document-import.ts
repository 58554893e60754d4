// Import: start a session from a file on this machine (.txt/.md into the
// writer, .csv into the sheet, .png/.jpg/.jpeg into paint). The server checks and logs the file's content
// as inputs (server/document-import.ts); the viewer only refuses early what
// the server would refuse anyway, with the same limits. Sent to any live
// server of the cluster (cluster-rest.ts) with an import id chosen here, so a
// request sent again through another server after a network error completes
// the same session: one file, one session.
import { errorMessageOf, type ClusterRest } from './cluster-rest.js';
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

/** A fresh import id (128 random bits, base64url): one per file the person picks. */
export function newImportId(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return btoa(String.fromCharCode(...bytes))
    .replace(/\+/g, '-')
    .replace(/\//g, '_')
    .replace(/=+$/, '');
}

export async function importFile(file: File, rest: ClusterRest, importId = newImportId()): Promise<ImportedSession> {
  const format = importFormatOf(file.name);
  if (!format) throw new Error(`${file.name}: only ${IMPORT_ACCEPT} files can be imported`);
  if (file.size > LIMITS.maxImportBytes) {
    throw new Error(`${file.name} is ${file.size} bytes; imports are limited to ${LIMITS.maxImportBytes}`);
  }
  const res = await rest.request({
    path: `/api/sessions/import?format=${format}&importId=${importId}`,
    method: 'POST',
    headers: { 'Content-Type': 'application/octet-stream' },
    body: file,
    idempotent: true, // the import id makes a second arrival complete the first
  });
  if (!res.ok) throw new Error(await errorMessageOf(res));
  return (await res.json()) as ImportedSession;
}
