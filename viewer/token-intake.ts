// What the viewer does with a `?token=` in its address: checked with the
// server before anything is kept. A share link is used for this page only and
// never stored; an owner token is remembered only when nothing else is, and
// never silently replaces a different remembered one (a crafted link must not
// swap the victim's account for the attacker's, or wipe the operator's).
import type { WhoAmI } from '../protocol/rest.js';
import { ClusterRest } from './cluster-rest.js';
import type { ServerList } from './server-list.js';

export type TokenCheck = WhoAmI | { kind: 'invalid' } | { kind: 'unreachable' };

export interface TokenIntake {
  /** The token this page connects with (null: none, the page asks for one). */
  use: string | null;
  /** Remember `use` as the owner token of this browser. */
  store: boolean;
  /** Take the token out of the address bar (history, screenshots). */
  stripUrl: boolean;
  /** A different owner token is remembered: ask before replacing it. */
  ask: boolean;
  /** Something to tell the person, or null. */
  notice: string | null;
}

/** Pure: the decision for a URL token (null when the address carries none), the stored one, and the server's answer. */
export function decideTokenIntake(
  urlToken: string | null,
  stored: string | null,
  check: TokenCheck | null,
): TokenIntake {
  const keep = { use: stored, store: false, stripUrl: false, ask: false, notice: null };
  if (urlToken === null || check === null) return keep;
  switch (check.kind) {
    case 'invalid':
      return {
        ...keep,
        stripUrl: true,
        notice: 'The token in this link is not valid (expired, revoked or mistyped); it was not kept.',
      };
    case 'unreachable':
      // Cannot tell what it is: use it for this page, keep nothing.
      return { ...keep, use: urlToken };
    case 'share':
      return { ...keep, use: urlToken };
    case 'owner':
      if (stored === null) return { ...keep, use: urlToken, store: true, stripUrl: true };
      if (stored === urlToken) return { ...keep, stripUrl: true };
      return { ...keep, ask: true };
    default: {
      const never: never = check;
      return never;
    }
  }
}

/** A /api/whoami answer, or null when it is not one (a peer's answer is another party's word). */
export function parseWhoAmI(body: unknown): WhoAmI | null {
  if (typeof body !== 'object' || body === null) return null;
  const b = body as Record<string, unknown>;
  if (b.kind === 'owner' && typeof b.owner === 'string' && typeof b.admin === 'boolean') {
    return { kind: 'owner', owner: b.owner, admin: b.admin };
  }
  if (b.kind === 'share' && (b.role === 'control' || b.role === 'view') && typeof b.sessionId === 'string') {
    return { kind: 'share', role: b.role, sessionId: b.sessionId };
  }
  return null;
}

/**
 * Asks the cluster what a token is (GET /api/whoami): the page's own server
 * first, then the other servers `servers` knows (cluster-rest.ts), so the
 * check survives the page's server dying after the page loaded. A 401 from
 * whichever answers is "invalid" (every server checks the same credential
 * store); no answer, only 5xx, or a malformed one is "unreachable".
 */
export async function checkToken(
  token: string,
  servers: ServerList,
  opts: { fetch?: typeof fetch; now?: () => number } = {},
): Promise<TokenCheck> {
  const rest = new ClusterRest({ servers, token: () => token, ...opts });
  let res: Response;
  try {
    res = await rest.request({ path: '/api/whoami', idempotent: true });
  } catch {
    return { kind: 'unreachable' };
  }
  if (res.status === 401) return { kind: 'invalid' };
  if (!res.ok) return { kind: 'unreachable' };
  return parseWhoAmI(await res.json().catch(() => null)) ?? { kind: 'unreachable' };
}
