// Reading a session's public view over the REST API of a launched server.
import type { SessionInfo } from '../../protocol/session.js';
import { authHeaders } from './cluster-secrets.js';

export async function getSession(url: string, sessionId: string, token?: string): Promise<SessionInfo> {
  const res = await fetch(`${url}/api/sessions/${sessionId}`, { headers: authHeaders(url, token) });
  if (!res.ok) throw new Error(`GET session ${sessionId}: ${res.status}`);
  return ((await res.json()) as { session: SessionInfo }).session;
}
