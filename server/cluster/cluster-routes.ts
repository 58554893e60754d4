// GET /api/servers: the cluster's live servers (id, URL, SFU capacity,
// started-at), so renderer nodes and viewers can learn where else to connect.
// Any valid viewer token or node credential may read it; mounted only when
// the server runs with --store etcd: (the single-server default has no such route).
// A viewer page served by another live server may read it cross-origin (CORS
// for the registry's origins only): it refreshes its list from whichever
// server is still up.
import { Router } from 'express';
import type { ServersResponse } from '../../protocol/cluster.js';
import type { Access, NodeAuth, ViewerIdentity } from '../access.js';
import { requestToken } from '../operator-routes.js';
import type { ServerRegistry } from './server-registry.js';

/** `registry` is read per request: the server joins the cluster once it knows its own URL (after listening). */
export function clusterRoutes(deps: {
  access: Access;
  registry: () => ServerRegistry | null;
  /** The live servers' origins (the registry's signed entries). */
  peerOrigins: () => string[];
}): Router {
  const router = Router();
  router.use('/servers', (req, res, next) => {
    const origin = req.headers.origin;
    if (origin !== undefined && deps.peerOrigins().includes(origin)) {
      res.setHeader('Access-Control-Allow-Origin', origin);
      res.setHeader('Access-Control-Allow-Headers', 'authorization');
      res.setHeader('Access-Control-Allow-Methods', 'GET');
      res.setHeader('Access-Control-Max-Age', '600');
    }
    res.setHeader('Vary', 'Origin');
    if (req.method === 'OPTIONS') {
      res.status(204).end();
      return;
    }
    next();
  });
  router.get('/servers', async (req, res) => {
    const token = requestToken(req);
    let viewer: ViewerIdentity | null;
    let node: NodeAuth | null;
    try {
      viewer = token === null ? null : await deps.access.authenticateViewer(token);
      node = token === null || viewer ? null : await deps.access.authenticateNode(token);
    } catch {
      res.status(503).json({ error: { code: 'unavailable', message: 'credentials cannot be checked now' } });
      return;
    }
    const now = Date.now();
    if (!((viewer && now < viewer.expiresAt) || (node && now < node.expiresAt))) {
      res.status(401).json({ error: { code: 'unauthorized', message: 'a valid token is required' } });
      return;
    }
    const registry = deps.registry();
    if (!registry) {
      res.status(503).json({ error: { code: 'unavailable', message: 'not in the cluster yet' } });
      return;
    }
    const body: ServersResponse = { servers: registry.list() };
    res.json(body);
  });
  return router;
}
