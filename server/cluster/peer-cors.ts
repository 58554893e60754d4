// CORS for the cluster's viewer pages: a page served by one server of the
// cluster reads the REST routes it needs (the server list, who a token is,
// export, thumbnails, import) from another when its own server is gone. The
// origins of the cluster's servers (the registry's signed entries, and the
// durable record of those seen before: peer-origins.ts) and the operator's
// list get Access-Control-Allow-Origin; any other http(s) page gets it only on
// the answer to a request whose Authorization token is valid (origin-rule.ts:
// tokens are never cookies, so that page holds no one's token but its own),
// e.g. a page loaded as http://127.0.0.1:3000 while its server advertises
// http://localhost:3000. Only the routes below, never with credentials.
import type { RequestHandler } from 'express';
import { corsVerdict, originKind, type BearerState } from '../origin-rule.js';

/** The routes a peer's page may call, with the methods each takes. */
const ROUTES: ReadonlyArray<{ path: RegExp; methods: readonly string[] }> = [
  { path: /^\/api\/servers$/, methods: ['GET'] },
  { path: /^\/api\/whoami$/, methods: ['GET'] },
  { path: /^\/api\/sessions\/[^/]+\/export$/, methods: ['GET'] },
  { path: /^\/api\/sessions\/[^/]+\/thumbnail\.jpg$/, methods: ['GET'] },
  { path: /^\/api\/sessions\/import$/, methods: ['POST'] },
];

/** Request headers a peer's page may send: the bearer token, the import body's type, the thumbnail's ETag. */
const ALLOWED_HEADERS = 'authorization, content-type, if-none-match';
/** Response headers its script may read (the thumbnail's ETag, the export's seq and filename). */
const EXPOSED_HEADERS = 'ETag, X-Lockstep-Seq, Content-Disposition';

/** The bearer token of the Authorization header only (the one a page's script must set itself), or null. */
function bearerOf(header: string | undefined): string | null {
  return typeof header === 'string' ? (/^Bearer\s+(\S+)$/i.exec(header)?.[1] ?? null) : null;
}

/**
 * `known`: the cluster's servers' origins and the operator-listed ones.
 * `tokenValid`: whether a bearer token is a viewer credential valid now (it
 * throws when the store cannot say: no grant then).
 */
export function peerCors(
  known: () => readonly string[],
  tokenValid: (token: string) => Promise<boolean>,
  tls: boolean,
): RequestHandler {
  return (req, res, next) => {
    const route = ROUTES.find((r) => r.path.test(req.path));
    if (!route) {
      next();
      return;
    }
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    const kind = originKind(origin, req.headers.host, tls, known());
    const preflight = req.method === 'OPTIONS';
    const grant = (): void => {
      if (origin === undefined) return;
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    };
    const token = bearerOf(req.headers.authorization);
    const bearer: Promise<BearerState> =
      kind !== 'foreign' || preflight || token === null
        ? Promise.resolve(token === null ? 'absent' : 'refused')
        : tokenValid(token).then(
            (ok): BearerState => (ok ? 'valid' : 'refused'),
            (): BearerState => 'refused',
          );
    void bearer.then((state) => {
      const verdict = corsVerdict(kind, preflight, state);
      if (verdict === 'grant') grant();
      if (!preflight) {
        next();
        return;
      }
      if (verdict === 'refuse' || (origin !== undefined && verdict !== 'grant')) {
        res.status(403).end();
        return;
      }
      res.setHeader('Access-Control-Allow-Methods', route.methods.join(', '));
      res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
      res.setHeader('Access-Control-Max-Age', '600');
      res.status(204).end();
    });
  };
}
