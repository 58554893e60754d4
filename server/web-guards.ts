// What a browser may do with this server: the Content-Security-Policy of every
// response (the viewer's scripts come only from here, never inline), and which
// page origins may open a websocket (a page elsewhere must not drive a
// session with the victim's stored token).
import type { ServerConfig } from './config.js';

/**
 * Scripts, styles and sockets from this origin only; thumbnails are blob: and
 * data: images; nothing may frame the page, no plugins, no <base> rewrites.
 */
export const CONTENT_SECURITY_POLICY = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self' blob: data:",
  "media-src 'self' blob:",
  "connect-src 'self'",
  "font-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/**
 * null when a websocket handshake may proceed, else why not. Without an
 * Origin header the client is not a browser page (a renderer node, a CLI):
 * its token decides. With one it must be this server's own origin (the Host
 * it was reached by, on its scheme) or one the operator listed.
 */
export function originVerdict(
  origin: string | undefined,
  host: string | undefined,
  config: Pick<ServerConfig, 'tls' | 'security'>,
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
  if (config.security.allowedOrigins.includes(url.origin)) return null;
  return `forbidden: origin ${url.origin} may not connect (set LOCKSTEP_ALLOWED_ORIGINS to allow it)`;
}
