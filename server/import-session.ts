// Which session an import creates. With a client-chosen import id the same id
// from the same owner always names the same session, so an import sent again
// (through another server of the cluster after a network error, when the
// viewer cannot tell whether the first request arrived) completes the first
// one instead of creating a second: its parts are appended again under the
// same client seqs, and the log keeps each once.
import { createHash } from 'node:crypto';
import type { SessionInfo } from '../protocol/session.js';
import { ConflictError } from './errors.js';
import type { SessionManager } from './session-manager.js';

/** How long a repeated import waits for the first attempt's session to open here (cluster: the session watch). */
const RESUME_WAIT_MS = 5000;

/** The session id for `importId` of `owner` (another owner's id cannot collide with it: the owner is hashed in). */
export function importSessionId(owner: string, importId: string): string {
  return `s-${createHash('sha256').update(`import\n${owner}\n${importId}`).digest('hex').slice(0, 12)}`;
}

/**
 * The session a repeated import completes: the first attempt created it, here
 * or on another server. ConflictError when it is not open (closed: that
 * import failed part way) or is another owner's.
 */
export async function resumedImport(manager: SessionManager, sessionId: string, owner: string): Promise<SessionInfo> {
  const deadline = Date.now() + RESUME_WAIT_MS;
  while (!manager.sessions.has(sessionId) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const session = manager.sessions.get(sessionId);
  if (!session || session.meta.owner !== owner) {
    throw new ConflictError('this import id belongs to an import that did not complete: choose a new one', {
      sessionId,
    });
  }
  return manager.info(sessionId);
}
