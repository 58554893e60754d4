// Which browser pages may use this server, and for what (SECURITY.md, "Browser
// origins"). Every Lockstep credential is a bearer token that the page's own
// script sends (the Authorization header on REST, the socket.io handshake's
// `auth` on sockets); no cookie, HTTP auth or client certificate is ever set
// or accepted, so a browser never attaches a credential by itself. A page on
// another origin therefore cannot use the victim's token: it cannot read it
// (it sits in the Lockstep page's own storage), and nothing sends it for it.
// What the Origin can still protect is what a page learns without a valid
// token. So:
//  - a page of this cluster (the Host it was reached by, a server's advertised
//    origin, an operator-listed one) gets CORS grants and sockets as before;
//  - any other http(s) page gets a CORS grant only on an answer to a request
//    whose Authorization token is valid, never on a tokenless or refused one
//    (its script cannot read a 401, the server list or anything else), and
//    its sockets are judged by their token like a node's: one it could
//    present from curl just the same;
//  - a preflight (it carries no token and returns no data) is answered for
//    any http(s) page; a malformed or non-http(s) Origin is refused outright.
// Access-Control-Allow-Credentials is never sent: cookies never ride along.
// This is what lets a page loaded by another name than its server advertises
// (127.0.0.1 vs localhost, a LAN address or hostname) reach the other servers.

/** How a request's Origin header stands. */
export type OriginKind =
  /** No Origin: not a cross-origin browser request (a node, a CLI, a same-origin GET). */
  | 'none'
  /** This server's own (by Host), a cluster server's or an operator-listed one. */
  | 'cluster'
  /** Another http(s) page. */
  | 'foreign'
  /** Not a parseable http(s) origin. */
  | 'malformed';

/** `known`: the cluster's servers' origins and LOCKSTEP_ALLOWED_ORIGINS. */
export function originKind(
  origin: string | undefined,
  host: string | undefined,
  tls: boolean,
  known: readonly string[],
): OriginKind {
  if (origin === undefined) return 'none';
  let url: URL;
  try {
    url = new URL(origin);
  } catch {
    return 'malformed';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'malformed';
  // An Origin is scheme://host[:port] only: anything more is not a browser's.
  if (url.origin !== origin) return 'malformed';
  const scheme = tls ? 'https:' : 'http:';
  if (url.protocol === scheme && host !== undefined && url.host === host.toLowerCase()) return 'cluster';
  return known.includes(url.origin) ? 'cluster' : 'foreign';
}

/** What the bearer token of a request is: none sent, valid now, or refused (unknown, expired, unverifiable). */
export type BearerState = 'absent' | 'valid' | 'refused';

/** `grant`: Access-Control-Allow-Origin for this Origin; `none`: no CORS headers; `refuse`: 403 to a preflight. */
export type CorsVerdict = 'grant' | 'none' | 'refuse';

export function corsVerdict(kind: OriginKind, preflight: boolean, bearer: BearerState): CorsVerdict {
  switch (kind) {
    case 'none':
      return 'none';
    case 'malformed':
      return preflight ? 'refuse' : 'none';
    case 'cluster':
      return 'grant';
    case 'foreign':
      if (preflight) return 'grant';
      return bearer === 'valid' ? 'grant' : 'none';
    default: {
      const never: never = kind;
      return never;
    }
  }
}

/** null when a websocket handshake may go on to the namespace's token check, else why not. */
export function socketVerdict(kind: OriginKind, origin: string | undefined): string | null {
  if (kind !== 'malformed') return null;
  return `forbidden: origin ${origin ?? ''} is not an http(s) origin`;
}
