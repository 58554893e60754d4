// GET /api/servers: the cluster's live servers (id, URL, SFU capacity,
// started-at), so renderer nodes and viewers can learn where else to connect.
// Any valid viewer token or node credential may read it; mounted only when
// the server runs with --store etcd: (the single-server default has no such route).
// A viewer page served by another server of the cluster may read it
// cross-origin (CORS for the cluster's origins only: peer-cors.ts): it
// refreshes its list from whichever server is still up. The answer names the
// server that gave it (`self`), so a viewer that reached it by another URL
// than the one it advertises knows it is the same server.
import { Router } from 'express';
import type { ServersResponse } from '../../protocol/cluster.js';
import type { Access, NodeAuth, ViewerIdentity } from '../access.js';
import { requestToken } from '../operator-routes.js';
import type { ServerRegistry } from './server-registry.js';

/** `registry` is read per request: the server joins the cluster once it knows its own URL (after listening). */
export function clusterRoutes(deps: { access: Access; registry: () => ServerRegistry | null }): Router {
  const router = Router();
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
    const body: ServersResponse = { servers: registry.list(), self: registry.self.id };
    res.json(body);
  });
  return router;
}
