// What a browser may do with this server: the Content-Security-Policy of every
// response (the viewer's scripts come only from here, never inline), and which
// page origins may open a websocket (a page elsewhere must not drive a
// session with the victim's stored token). In cluster mode the other live
// servers (the registry's signed entries) count as this server's own: a viewer
// page from one holds sockets to all of them.
import type { ServerConfig } from './config.js';

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
 * null when a websocket handshake may proceed, else why not. Without an
 * Origin header the client is not a browser page (a renderer node, a CLI):
 * its token decides. With one it must be this server's own origin (the Host
 * it was reached by, on its scheme), one the operator listed, or another live
 * server of the cluster (`peers`: a viewer page served by it).
 */
export function originVerdict(
  origin: string | undefined,
  host: string | undefined,
  config: Pick<ServerConfig, 'tls' | 'security'>,
  peers: readonly string[] = [],
): string | null {
  if (origin === undefined) return null;
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'forbidden: malformed Origin';
  }
  const scheme = config.tls ? 'https:' : 'http:';
  if (url.protocol === scheme && host !== undefined && url.host === host.toLowerCase()) return null;
  if (config.security.allowedOrigins.includes(url.origin) || peers.includes(url.origin)) return null;
  return `forbidden: origin ${url.origin} may not connect (set LOCKSTEP_ALLOWED_ORIGINS to allow it)`;
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
