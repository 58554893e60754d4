// The cluster's servers as this browser last learnt them (GET /api/servers,
// session-links.ts), kept in the page's own storage: a token check right
// after the page loaded (token-intake.ts) can then go to another server when
// the page's own died meanwhile, before any list could be fetched. Only
// http(s) origins, at most MAX_KNOWN; a stale entry costs one failed attempt
// (cluster-rest.ts skips it).
import { serverOrigin } from './server-list.js';

const KEY = 'lockstep.servers';
export const MAX_KNOWN = 16;

/** The remembered origins (none when storage is off or holds something else). */
export function loadKnownServers(storage: Pick<Storage, 'getItem'> | null): string[] {
  try {
    const parsed: unknown = JSON.parse(storage?.getItem(KEY) ?? '[]');
    if (!Array.isArray(parsed)) return [];
    const out = new Set<string>();
    for (const u of parsed) {
      const o = typeof u === 'string' ? serverOrigin(u) : null;
      if (o !== null) out.add(o);
    }
    return [...out].slice(0, MAX_KNOWN);
  } catch {
    return [];
  }
}

/** Remembers `urls` (the servers' origins) in place of the previous list. */
export function saveKnownServers(storage: Pick<Storage, 'setItem'> | null, urls: readonly string[]): void {
  const origins = [...new Set(urls.map(serverOrigin).filter((o): o is string => o !== null))].slice(0, MAX_KNOWN);
  try {
    storage?.setItem(KEY, JSON.stringify(origins));
  } catch {
    // Storage disabled or full: the next page learns the list again.
  }
}
