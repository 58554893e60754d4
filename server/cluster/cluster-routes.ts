// GET /api/servers: the cluster's live servers (id, URL, SFU capacity,
// started-at), so renderer nodes and viewers can learn where else to connect.
// Any valid viewer token or node credential may read it; mounted only when
// the server runs with --store etcd: (the single-server default has no such route).
// A viewer page served by another server of the cluster may read it
// cross-origin (CORS for the cluster's origins only: peer-cors.ts): it
// refreshes its list from whichever server is still up. The answer names the
// server that gave it (`self`), so a viewer that reached it by another URL
// than the one it advertises knows it is the same server.
// GET /api/rehome: a node told by its home server to move here asks this
// server, with its own credential, whether etcd holds the leader's directive
// naming it and this server; 404 otherwise. The node moves only on both words.
import { Router } from 'express';
import type { ServersResponse } from '../../protocol/cluster.js';
import type { RehomeConfirmation } from '../../protocol/signalling.js';
import type { Access, NodeAuth, ViewerIdentity } from '../access.js';
import { requestToken } from '../operator-routes.js';
import type { RehomeDirectives } from './rehome-directives.js';
import type { ServerRegistry } from './server-registry.js';

/** `registry` is read per request: the server joins the cluster once it knows its own URL (after listening). */
export function clusterRoutes(deps: {
  access: Access;
  registry: () => ServerRegistry | null;
  rehome: () => RehomeDirectives | null;
}): Router {
  const router = Router();
  router.get('/rehome', async (req, res) => {
    const token = requestToken(req);
    let node: NodeAuth | null;
    try {
      node = token === null ? null : await deps.access.authenticateNode(token);
    } catch {
      res.status(503).json({ error: { code: 'unavailable', message: 'credentials cannot be checked now' } });
      return;
    }
    // Only a node's own credential names a node: a join token could be anyone's.
    if (!node || node.via !== 'credential' || Date.now() >= node.expiresAt) {
      res.status(401).json({ error: { code: 'unauthorized', message: 'a node credential is required' } });
      return;
    }
    const registry = deps.registry();
    const directive = deps.rehome()?.current(node.nodeId) ?? null;
    if (!registry || !directive || directive.toServerId !== registry.self.id) {
      res.status(404).json({ error: { code: 'not-found', message: 'no directive moves this node here' } });
      return;
    }
    const body: RehomeConfirmation = {
      directiveId: directive.directiveId,
      nodeId: directive.nodeId,
      serverId: registry.self.id,
    };
    res.json(body);
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
    const body: ServersResponse = { servers: registry.list(), self: registry.self.id };
    res.json(body);
  });
  return router;
}
