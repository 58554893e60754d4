// Download: the session's document as a file (writer .txt/.md, the sheet .csv,
// paint .png). The viewer's own inputs are acknowledged first; the server cuts
// the file at its head seq and serves only bytes replicas on a majority of
// hosts agreed on (server/export-relay.ts), so what arrives holds every
// acknowledged keystroke. Asked of any live server of the cluster
// (cluster-rest.ts): the page's own may be the one that died.
import type { ExportFormats } from '../protocol/rest.js';
import { errorMessageOf, type ClusterRest } from './cluster-rest.js';

const SETTLE_TIMEOUT_MS = 2000;

export interface DownloadDeps {
  sessionId: string;
  rest: ClusterRest;
  pendingInputs: () => number;
  /** Delivers the file to the person (an <a download> click in the page). */
  save: (blob: Blob, filename: string) => void;
}

export type DownloadResult = { ok: true; filename: string; bytes: number } | { ok: false; message: string };

/** The formats the session's app exports ([] when it exports none or no server can say). */
export async function exportFormats(d: Pick<DownloadDeps, 'sessionId' | 'rest'>): Promise<string[]> {
  try {
    const res = await d.rest.request({
      path: `/api/sessions/${encodeURIComponent(d.sessionId)}/export`,
      idempotent: true,
    });
    if (!res.ok) return [];
    const body = (await res.json()) as Partial<ExportFormats>;
    return Array.isArray(body.formats) ? body.formats.filter((f) => /^[a-z0-9]{1,8}$/.test(f)) : [];
  } catch {
    return [];
  }
}

export async function downloadDocument(d: DownloadDeps, format: string): Promise<DownloadResult> {
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  while (d.pendingInputs() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  try {
    const res = await d.rest.request({
      path: `/api/sessions/${encodeURIComponent(d.sessionId)}/export?format=${encodeURIComponent(format)}`,
      idempotent: true,
    });
    if (!res.ok) return { ok: false, message: `Download failed: ${await errorMessageOf(res)}` };
    const blob = await res.blob();
    const filename = `${d.sessionId}.${format}`;
    d.save(blob, filename);
    return { ok: true, filename, bytes: blob.size };
  } catch (err) {
    return { ok: false, message: `Download failed: ${err instanceof Error ? err.message : String(err)}` };
  }
}

/** Saves a blob through a temporary object URL and an <a download>. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob);
  const a = document.createElement('a');
  a.href = url;
  a.download = filename;
  a.hidden = true;
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 10_000);
}
