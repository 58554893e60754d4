// Copy out of the app: on Ctrl+C / Cmd+C on the stage (the key itself still
// goes to the app), wait until this viewer's inputs are in the log, ask the
// server for the app's copy text as of that seq, and put it on the clipboard.
import type { CopyResult, ViewerRequest } from '../protocol/signalling.js';

export type ClipboardCopyRequest = Extract<ViewerRequest, { type: 'clipboard.copy' }>;
import type { KeyLike } from './key-mapping.js';

export interface ClipboardCopyDeps {
  sessionId: string;
  request: (req: ClipboardCopyRequest) => Promise<CopyResult>;
  pendingInputs: () => number;
  ackedSeq: () => number;
  liveReplicaId: () => string | null;
  writeText: (text: string) => Promise<void>;
  onResult: (r: { ok: true; chars: number } | { ok: false; message: string }) => void;
}

/** Ctrl+C / Cmd+C without Shift or Alt (Ctrl+Shift+C is the browser's devtools). */
export function isCopyShortcut(e: KeyLike): boolean {
  return (e.ctrlKey || e.metaKey) && !e.shiftKey && !e.altKey && e.code === 'KeyC';
}

const SETTLE_TIMEOUT_MS = 2000;

export async function copyFromApp(deps: ClipboardCopyDeps): Promise<void> {
  // The Ctrl+C key (and the selection before it) must be logged first.
  const deadline = performance.now() + SETTLE_TIMEOUT_MS;
  while (deps.pendingInputs() > 0 && performance.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  try {
    const live = deps.liveReplicaId();
    const res = await deps.request({
      type: 'clipboard.copy',
      sessionId: deps.sessionId,
      atSeq: deps.ackedSeq(),
      ...(live ? { replicaId: live } : {}),
    });
    if (res.text === null || res.text === '') {
      deps.onResult({ ok: false, message: 'Nothing selected to copy.' });
      return;
    }
    await deps.writeText(res.text);
    deps.onResult({ ok: true, chars: res.text.length });
  } catch (err) {
    deps.onResult({ ok: false, message: `Copy failed: ${err instanceof Error ? err.message : String(err)}` });
  }
}
