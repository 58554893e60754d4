// What a browser may do with this server: the Content-Security-Policy of every
// response (the viewer's scripts come only from here, never inline), and which
// page origins may open a websocket (origin-rule.ts: the token decides, and
// only an http(s) page may try). In cluster mode the other live servers (the
// registry's signed entries) are listed in connect-src: a viewer page from
// one holds sockets to all of them.
import type { ServerConfig } from './config.js';
import { originKind, socketVerdict } from './origin-rule.js';

/**
 * Scripts, styles and sockets from this origin only (plus, for sockets and
 * fetches, the cluster's other servers: `peers`, http(s) origins); thumbnails
 * are blob: and data: images; nothing may frame the page, no plugins, no
 * <base> rewrites.
 */
export function contentSecurityPolicy(peers: readonly string[] = []): string {
  const connect = ["'self'"];
  for (const origin of peers) {
    // An http(s) source matches ws(s) in CSP 3; the ws form is listed too for older browsers.
    connect.push(origin, origin.replace(/^http/, 'ws'));
  }
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self' blob: data:",
    "media-src 'self' blob:",
    `connect-src ${connect.join(' ')}`,
    "font-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

export const CONTENT_SECURITY_POLICY = contentSecurityPolicy();

/**
 * null when a websocket handshake may proceed to its namespace, else why not
 * (origin-rule.ts). Without an Origin the client is not a browser page (a
 * renderer node, a CLI); with one of this cluster's (the Host it was reached
 * by, a live or recorded server's, an operator-listed one) or any other
 * http(s) page's, the namespace's token check decides: credentials are bearer
 * tokens the page sends itself, never cookies, so a page elsewhere holds no
 * one's token but its own. A malformed or non-http(s) Origin is refused.
 */
export function originVerdict(
  origin: string | undefined,
  host: string | undefined,
  config: Pick<ServerConfig, 'tls' | 'security'>,
  peers: readonly string[] = [],
): string | null {
  const kind = originKind(origin, host, Boolean(config.tls), [...config.security.allowedOrigins, ...peers]);
  return socketVerdict(kind, origin);
}

/** The http(s) origins of the cluster's live servers (their advertised URLs), for `peers` above. */
export function registryOrigins(servers: readonly { url: string }[]): string[] {
  const out = new Set<string>();
  for (const s of servers) {
    try {
      const u = new URL(s.url);
      if (u.protocol === 'http:' || u.protocol === 'https:') out.add(u.origin);
    } catch {
      // A malformed URL never passed the registry's schema; skipped all the same.
    }
  }
  return [...out];
}
