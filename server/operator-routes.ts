// HTTP routes beyond the REST API proper: Prometheus metrics for the
// operator, and session thumbnails for the viewer's session list. Both take
// the same credentials as the rest of the REST layer (a bearer header, or
// `?token=` where a header cannot be set, e.g. an <img src>).
import { Router, type Request } from 'express';
import { BearerTokenSchema } from '../protocol/rest.js';
import { getLogger } from '../protocol/logger.js';
import type { Access, ViewerIdentity } from './access.js';
import type { Metrics } from './metrics.js';
import type { SessionManager } from './session-manager.js';
import { thumbnailHandler, type ThumbnailStore } from './thumbnails.js';

const log = getLogger('operator-routes');

export interface OperatorRoutesDeps {
  access: Access;
  manager: SessionManager;
  metrics: Metrics;
  thumbnails: ThumbnailStore;
}

/** The credential of a request: `Authorization: Bearer …`, else `?token=`. */
export function requestToken(req: Request): string | null {
  const header = req.headers.authorization;
  const fromHeader = typeof header === 'string' ? /^Bearer\s+(\S+)$/i.exec(header)?.[1] : undefined;
  const fromQuery: unknown = req.query.token;
  const raw = fromHeader ?? (typeof fromQuery === 'string' ? fromQuery : undefined);
  const parsed = BearerTokenSchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

async function identityOf(access: Access, req: Request): Promise<ViewerIdentity | null> {
  const token = requestToken(req);
  const id = token === null ? null : await access.authenticateViewer(token);
  return id && Date.now() < id.expiresAt ? id : null;
}

export function operatorRoutes(deps: OperatorRoutesDeps): Router {
  const router = Router();
  router.get('/metrics', async (req, res) => {
    // Series carry session, replica and host ids: operator token only (/healthz stays open).
    const id = await identityOf(deps.access, req).catch(() => undefined);
    if (id === undefined) {
      res.status(503).json({ error: { code: 'unavailable', message: 'credentials cannot be checked now' } });
      return;
    }
    if (!id?.admin) {
      res.status(id ? 403 : 401).json({
        error: { code: id ? 'forbidden' : 'unauthorized', message: 'the operator token is required' },
      });
      return;
    }
    deps.metrics.render().then(
      (text) => res.type(deps.metrics.contentType).send(text),
      (err: unknown) => {
        log.error({ err }, 'metrics render failed');
        res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
      },
    );
  });
  router.get(
    '/api/sessions/:id/thumbnail.jpg',
    thumbnailHandler({
      thumbnails: deps.thumbnails,
      canSee: async (req, sessionId) => {
        const id = await identityOf(deps.access, req);
        const session = deps.manager.sessions.get(sessionId);
        if (!id || !session) return false;
        return id.sessionId ? id.sessionId === sessionId : session.meta.owner === id.owner;
      },
    }),
  );
  return router;
}
