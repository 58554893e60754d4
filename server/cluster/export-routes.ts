// POST /api/cluster/export: another server of the cluster asks this one for
// the files of replicas homed here (export-relay.ts relays its nodes'
// answers). Only a request signed with the cluster secret over method, path,
// body and time is served (cluster-secret.ts); the answer names this server.
// A body the parser refuses (over 64 kB, even once inflated; a broken or
// unknown encoding or charset) gets a typed JSON 413 or 400, like any other
// refusal here, never Express's HTML error page.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { PeerExportRequestSchema, type PeerExportResponse } from '../../protocol/cluster.js';
import { HTTP_STATUS } from '../../protocol/errors.js';
import { getLogger } from '../../protocol/logger.js';
import { LockstepError } from '../errors.js';
import type { ExportRelay } from '../export-relay.js';
import { CLUSTER_MAC_HEADER, CLUSTER_TIME_HEADER, type ClusterSecret } from './cluster-secret.js';
import { PEER_EXPORT_PATH } from './export-peers.js';

const log = getLogger('export-routes');

export function peerExportRoutes(deps: {
  secret: ClusterSecret;
  exports: ExportRelay;
  /** This server's registry id, once it joined the cluster (null before). */
  selfId: () => string | null;
}): Router {
  const router = Router();
  router.post(PEER_EXPORT_PATH, express.text({ type: () => true, limit: '64kb' }), async (req, res) => {
    try {
      const body = typeof req.body === 'string' ? req.body : '';
      deps.secret.verifyRequest(
        { method: 'POST', path: PEER_EXPORT_PATH, body },
        req.header(CLUSTER_TIME_HEADER),
        req.header(CLUSTER_MAC_HEADER),
      );
      const parsed = PeerExportRequestSchema.safeParse(JSON.parse(body));
      const selfId = deps.selfId();
      if (!parsed.success || selfId === null) {
        res.status(400).json({ error: { code: 'bad-request', message: 'not an export relay request' } });
        return;
      }
      const answers = await deps.exports.relay(parsed.data);
      const out: PeerExportResponse = { serverId: selfId, answers };
      res.json(out);
    } catch (err) {
      if (err instanceof LockstepError) {
        if (err.code === 'unauthorized') log.warn({ err: err.message }, 'export relay request refused');
        res.status(HTTP_STATUS[err.code]).json({ error: { code: err.code, message: err.message } });
      } else if (err instanceof SyntaxError) {
        res.status(400).json({ error: { code: 'bad-request', message: 'malformed JSON' } });
      } else {
        log.error({ err }, 'export relay failed');
        res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
      }
    }
  });
  router.use(PEER_EXPORT_PATH, (err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const status = (err as { status?: unknown }).status;
    if (status === 413) {
      res.status(413).json({ error: { code: 'too-large', message: 'request body larger than 64 kB' } });
    } else if (typeof status === 'number' && status >= 400 && status < 500) {
      res.status(400).json({ error: { code: 'bad-request', message: 'malformed request body' } });
    } else {
      log.error({ err }, 'export relay request failed');
      res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
    }
  });
  return router;
}
