// CORS for the cluster's own viewer pages: a page served by one server of the
// cluster reads the REST routes it needs (the server list, who a token is,
// export, thumbnails, import) from another when its own server is gone. Only
// the origins of the cluster's servers (the registry's signed entries, and
// the durable record of those seen before: peer-origins.ts) are answered with
// Access-Control-Allow-Origin; any other page gets no CORS grant, so its
// script cannot read the answers (and a preflight from it is refused).
import type { RequestHandler } from 'express';

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

export function peerCors(peerOrigins: () => readonly string[]): RequestHandler {
  return (req, res, next) => {
    const route = ROUTES.find((r) => r.path.test(req.path));
    if (!route) {
      next();
      return;
    }
    res.setHeader('Vary', 'Origin');
    const origin = req.headers.origin;
    const allowed = origin !== undefined && peerOrigins().includes(origin);
    if (allowed) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Expose-Headers', EXPOSED_HEADERS);
    }
    if (req.method !== 'OPTIONS') {
      next();
      return;
    }
    if (origin !== undefined && !allowed) {
      res.status(403).end();
      return;
    }
    res.setHeader('Access-Control-Allow-Methods', route.methods.join(', '));
    res.setHeader('Access-Control-Allow-Headers', ALLOWED_HEADERS);
    res.setHeader('Access-Control-Max-Age', '600');
    res.status(204).end();
  };
}
