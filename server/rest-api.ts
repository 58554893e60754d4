// The REST API under /api. Every request needs `Authorization: Bearer <token>`
// (or `?token=`): an owner token sees its own sessions, a share link only its
// session. Path parameters, queries and bodies are parsed with the zod schemas
// in protocol/rest.ts; every failure is a typed JSON error.
import express, { type NextFunction, type Request, type Response, type Router } from 'express';
import type { z } from 'zod';
import { HTTP_STATUS, type ErrorCode } from '../protocol/errors.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import {
  AdmitHostBodySchema,
  BearerTokenSchema,
  CreateOwnerBodySchema,
  ExportQuerySchema,
  ImportQuerySchema,
  type ImportedSession,
  type ExportFormats,
  LogQuerySchema,
  RevokeHostBodySchema,
  RevokeTokenBodySchema,
  RotateTokenBodySchema,
  SessionParamsSchema,
  TokenOnlyQuerySchema,
  type IssuedHostToken,
  type IssuedToken,
  type WhoAmI,
} from '../protocol/rest.js';
import { isImageImport, type ImportInput } from '../protocol/input.js';
import type { SessionInfo } from '../protocol/session.js';
import { scopedClientId, type Access, type ViewerIdentity } from './access.js';
import type { AppFormats } from './app-formats.js';
import { importInputs } from './document-import.js';
import { importSessionId, resumedImport } from './import-session.js';
import { decodeImportImage, fittedPixels, rgbaParts } from './image-import.js';
import type { ExportRelay } from './export-relay.js';
import { BadRequestError, ConflictError, ForbiddenError, LockstepError, NotFoundError } from './errors.js';
import type { NodeGateway } from './node-gateway.js';
import { TokenBucket } from './rate-limit.js';
import type { Session } from './session-core/session.js';
import type { SessionManager } from './session-manager.js';
import type { Sfu } from './sfu.js';
import type { InputLog } from './input-log.js';
import type { ViewerGateway } from './viewer-gateway.js';

const log = getLogger('rest');

const REST_REQUESTS_PER_SECOND = 50;
const MAX_TRACKED_BUCKETS = 10_000;

export interface RestDeps {
  manager: SessionManager;
  access: Access;
  inputLog: InputLog;
  sfu: Sfu;
  exports: ExportRelay;
  /** Which formats each app imports and exports (built-in and published manifests). */
  formats: AppFormats;
  /** Filled in once socket.io is up: revocations drop live connections through them. */
  gateways: { viewers?: ViewerGateway; nodes?: NodeGateway };
}

function sendError(res: Response, code: ErrorCode, message: string): void {
  if (code === 'unauthorized') res.setHeader('WWW-Authenticate', 'Bearer realm="lockstep"');
  res.status(HTTP_STATUS[code]).json({ error: { code, message } });
}

function parse<T>(schema: z.ZodType<T, z.ZodTypeDef, unknown>, value: unknown, what: string): T {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = r.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
  throw new BadRequestError(`malformed ${what}: ${issues.join('; ')}`, {});
}

function presentedToken(req: Request): string | undefined {
  const header = req.headers.authorization;
  if (typeof header === 'string') return /^Bearer\s+(\S+)\s*$/i.exec(header)?.[1] ?? '';
  const q: unknown = (req.query as Record<string, unknown>).token;
  return typeof q === 'string' ? q : undefined;
}

function identity(res: Response): ViewerIdentity {
  return (res.locals as { identity: ViewerIdentity }).identity;
}

export function restApi(deps: RestDeps): Router {
  const { manager, access, inputLog, sfu } = deps;
  const router = express.Router();
  const buckets = new Map<string, TokenBucket>();

  // Authentication first: an unauthenticated request gets nothing, not even a body parse.
  router.use(async (req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    const raw = presentedToken(req);
    const token = raw === undefined ? undefined : BearerTokenSchema.safeParse(raw);
    const id = token?.success ? await access.authenticateViewer(token.data) : null;
    if (!id) {
      sendError(res, 'unauthorized', 'a valid token is required (Authorization: Bearer <token>)');
      return;
    }
    if (buckets.size > MAX_TRACKED_BUCKETS) buckets.clear();
    let bucket = buckets.get(id.tokenId);
    if (!bucket) buckets.set(id.tokenId, (bucket = new TokenBucket(REST_REQUESTS_PER_SECOND, 'API requests')));
    try {
      bucket.take();
    } catch (err) {
      next(err);
      return;
    }
    (res.locals as { identity: ViewerIdentity }).identity = id;
    next();
  });
  router.use(express.json({ limit: '16kb', strict: true }));

  /** The session if this identity may see it; the same 404 otherwise (ids are not probeable). */
  const visible = (id: ViewerIdentity, sessionId: string): Session => {
    const session = manager.sessions.get(sessionId);
    const ok = session && (id.sessionId ? id.sessionId === sessionId : session.meta.owner === id.owner);
    if (!session || !ok) throw new NotFoundError(`no session ${sessionId}`, { sessionId });
    return session;
  };
  const sessionOf = (req: Request, res: Response): Session => {
    const { id } = parse(SessionParamsSchema, req.params, 'path');
    return visible(identity(res), id);
  };

  /**
   * The durable record (every client id, every input, the whole state) is the
   * owner's: a share link may watch or type, not read who typed what.
   */
  const ownedSessionOf = (req: Request, res: Response): Session => {
    const session = sessionOf(req, res);
    if (identity(res).kind !== 'owner') {
      throw new ForbiddenError('the input log and snapshots are for the session owner only', {});
    }
    return session;
  };

  router.get('/whoami', (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    const id = identity(res);
    const who: WhoAmI =
      id.kind === 'share' && id.sessionId
        ? { kind: 'share', role: id.role, sessionId: id.sessionId }
        : { kind: 'owner', owner: id.owner, admin: id.admin };
    res.json(who);
  });

  router.get('/sessions', (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    const id = identity(res);
    const sessions: SessionInfo[] = manager
      .list()
      .filter((s) => (id.sessionId ? s.sessionId === id.sessionId : manager.get(s.sessionId).meta.owner === id.owner));
    res.json({ sessions });
  });
  router.get('/sessions/:id', (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    res.json({ session: sessionOf(req, res).info(Date.now()) });
  });
  // Media statistics per replica producer, and every transport of the session's
  // router with its class and DTLS state (all WebRTC, all DTLS-SRTP).
  router.get('/sessions/:id/stats', async (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    const session = sessionOf(req, res);
    const replicas = await Promise.all(
      [...session.replicas.values()].map(async (r) => {
        const producer = manager.producerOf(r.replicaId);
        return {
          replicaId: r.replicaId,
          hostId: r.hostId,
          state: r.state,
          producer: producer ? await producer.getStats() : null,
        };
      }),
    );
    const transports = sfu.transports(session.id).map((t) => {
      const webrtc = t as Partial<{ dtlsState: string; iceState: string; dtlsParameters: { role?: string } }>;
      const app = t.appData as { nodeId?: unknown; viewer?: unknown };
      return {
        id: t.id,
        class: t.constructor.name,
        side: app.nodeId !== undefined ? 'node' : app.viewer !== undefined ? 'viewer' : 'unknown',
        dtlsState: webrtc.dtlsState ?? null,
        iceState: webrtc.iceState ?? null,
      };
    });
    res.json({ replicas, transports });
  });
  // The durable input log (used to rebuild a reference state anywhere).
  router.get('/sessions/:id/log', async (req, res) => {
    const q = parse(LogQuerySchema, req.query, 'query');
    const session = ownedSessionOf(req, res);
    const inputs = await inputLog.read(session.id, q.from, q.to, LIMITS.maxFetchBatch);
    res.json({ headSeq: session.headSeq, inputs });
  });
  // The latest stored snapshot (state transfer source), base64.
  router.get('/sessions/:id/snapshot', async (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    const session = ownedSessionOf(req, res);
    const snap = await inputLog.latestSnapshot(session.id);
    res.json({ snapshot: snap && { seq: snap.seq, stateHash: snap.stateHash, data: snap.data.toString('base64') } });
  });

  // The document as a file, agreed by replicas on a majority of hosts at the head
  // seq (every acknowledged input is in it). Anyone who may watch may export what
  // they see, as with copy (view-only links too).
  router.get('/sessions/:id/export', async (req, res) => {
    const q = parse(ExportQuerySchema, req.query, 'query');
    const session = sessionOf(req, res);
    if (q.format === undefined) {
      const body: ExportFormats = { formats: deps.exports.formats(session.id) };
      res.json(body);
      return;
    }
    const file = await deps.exports.export(session.id, q.format);
    res.setHeader('Content-Type', file.mime);
    res.setHeader('Content-Disposition', `attachment; filename="${session.id}.${file.format}"`);
    res.setHeader('X-Lockstep-Seq', String(file.seq));
    res.send(file.bytes);
  });

  // A new session from a file: the file is checked and cut into `import` inputs
  // first (a bad file creates nothing), then every part is logged durably before
  // the answer; a part that cannot be logged closes the half-imported session.
  router.post('/sessions/import', express.raw({ type: () => true, limit: LIMITS.maxImportBytes }), async (req, res) => {
    const q = parse(ImportQuerySchema, req.query, 'query');
    const id = identity(res);
    if (id.role !== 'control' || id.sessionId) throw new ForbiddenError('this credential cannot create sessions', {});
    const app = q.app ?? deps.formats.defaultFor(q.format);
    if (!app || !deps.formats.imports(app, q.format)) {
      throw new BadRequestError(`${app ?? 'no app'} does not import .${q.format} files`, { format: q.format });
    }
    const body: unknown = req.body;
    const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
    // Checked (and an image decoded) before the session exists: a bad file creates nothing.
    const image = isImageImport(q.format) ? await decodeImportImage(q.format, bytes) : null;
    const textInputs = isImageImport(q.format) ? [] : importInputs(q.format, bytes);
    // With an import id, a second request (sent again after a network error, maybe to another server)
    // names the same session and completes it: the parts are appended idempotently by client seq.
    const chosenId = q.importId === undefined ? undefined : importSessionId(id.owner, q.importId);
    const create = (): Promise<SessionInfo> =>
      manager.createSession({
        owner: id.owner,
        app,
        replicationFactor: q.replicationFactor,
        width: q.width,
        height: q.height,
        id: chosenId,
      });
    const created =
      chosenId === undefined
        ? await create()
        : manager.sessions.has(chosenId)
          ? await resumedImport(manager, chosenId, id.owner)
          : await create().catch((err: unknown) => {
              if (err instanceof ConflictError) return resumedImport(manager, chosenId, id.owner);
              throw err;
            });
    const sessionId = created.sessionId;
    const clientId = scopedClientId(id, 'import');
    let headSeq = 0;
    let inputs: ImportInput[] = textInputs;
    try {
      // An image is fitted to the session's surface, once, here: its RGBA rows are what replicas get.
      if (image) {
        const fitted = fittedPixels(image, { width: created.width, height: created.height });
        inputs = rgbaParts(fitted, fitted.rgba);
      }
      for (const [i, event] of inputs.entries())
        headSeq = (await manager.submitInput(sessionId, clientId, i, event)).seq;
    } catch (err) {
      log.warn({ sessionId, err }, 'import failed part way: closing the session');
      await manager.closeSession(sessionId).catch(() => undefined);
      throw err;
    }
    log.info({ sessionId, app, format: q.format, bytes: bytes.length, inputs: inputs.length }, 'session imported');
    const answer: ImportedSession = {
      session: manager.info(sessionId),
      imported: { format: q.format, bytes: bytes.length, inputs: inputs.length, headSeq },
    };
    res.status(201).json(answer);
  });

  // ---- credentials (secrets are returned once, at creation; lists carry metadata only)
  router.get('/tokens', async (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    const id = identity(res);
    if (id.kind !== 'owner') throw new ForbiddenError('a share link cannot list tokens', {});
    res.json({
      tokens: (await access.store.listActive(id.owner)).map((t) => ({
        id: t.id,
        kind: t.kind,
        role: t.role,
        sessionId: t.sessionId,
        label: t.label,
        createdAt: t.createdAt,
        expiresAt: t.expiresAt,
        current: t.id === id.tokenId,
      })),
    });
  });
  router.post('/tokens/rotate', async (req, res) => {
    const body = parse(RotateTokenBodySchema, req.body ?? {}, 'body');
    const { issued, revoked } = await access.rotateOwner(identity(res), body.revokeShares === true);
    log.warn({ owner: identity(res).owner, newTokenId: issued.id, revoked: revoked.length }, 'owner token rotated');
    const reply: IssuedToken = {
      id: issued.id,
      token: issued.secret,
      owner: identity(res).owner,
      expiresAt: issued.expiresAt,
    };
    res.json(reply);
    // After the reply: this very request's connection may be among those dropped.
    deps.gateways.viewers?.kick(revoked);
  });
  router.post('/tokens/revoke', async (req, res) => {
    const body = parse(RevokeTokenBodySchema, req.body, 'body');
    await access.revoke(identity(res), body.id);
    const dropped = (deps.gateways.viewers?.kick([body.id]) ?? 0) + (deps.gateways.nodes?.kick([body.id]) ?? 0);
    log.info({ tokenId: body.id, dropped }, 'token revoked');
    res.json({ revoked: true, dropped });
  });
  // Operator only: node credentials (metadata) and whether each node is connected now.
  router.get('/nodes', async (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    if (!identity(res).admin) throw new ForbiddenError('only the operator token can list nodes', {});
    res.json({
      credentials: (await access.store.listActiveOfKind('node')).map((t) => ({
        id: t.id,
        nodeId: t.nodeId,
        createdAt: t.createdAt,
        expiresAt: t.expiresAt,
        connected: t.nodeId !== null && manager.nodes.get(t.nodeId) !== undefined,
      })),
    });
  });
  // Operator only: admitted hosts (one join token each), with their caps and connected nodes.
  const operator = (res: Response, what: string): void => {
    if (!identity(res).admin) throw new ForbiddenError(`only the operator token can ${what}`, {});
  };
  router.get('/hosts', async (req, res) => {
    parse(TokenOnlyQuerySchema, req.query, 'query');
    operator(res, 'list hosts');
    const nodes = manager.nodes.all();
    res.json({
      hosts: (await access.hosts.list()).map((h) => ({
        ...h,
        nodes: nodes.filter((n) => n.admissionId === h.tokenId).map((n) => n.nodeId),
      })),
    });
  });
  router.post('/hosts', async (req, res) => {
    const body = parse(AdmitHostBodySchema, req.body, 'body');
    operator(res, 'admit hosts');
    const issued = await access.hosts.issue(body.host, body, body.ttlDays);
    log.info({ host: body.host, tokenId: issued.id }, 'host admitted');
    const reply: IssuedHostToken = {
      id: issued.id,
      host: body.host,
      token: issued.secret,
      expiresAt: issued.expiresAt,
    };
    res.json(reply);
  });
  router.post('/hosts/revoke', async (req, res) => {
    const body = parse(RevokeHostBodySchema, req.body, 'body');
    operator(res, 'revoke hosts');
    const revoked = await access.hosts.revoke(body.host);
    // Its nodes drop now; the session manager re-places their replicas on other hosts.
    const dropped = deps.gateways.nodes?.kick(revoked) ?? 0;
    log.warn({ host: body.host, revoked: revoked.length, dropped }, 'host revoked');
    res.json({ revoked: true, dropped });
  });
  router.post('/owners', async (req, res) => {
    const body = parse(CreateOwnerBodySchema, req.body, 'body');
    const issued = await access.createOwner(identity(res), body.owner, body.ttlDays);
    const reply: IssuedToken = { id: issued.id, token: issued.secret, owner: body.owner, expiresAt: issued.expiresAt };
    res.json(reply);
  });

  router.use((_req, res) => sendError(res, 'not-found', 'no such API endpoint'));
  // Typed errors → their status; body-parser errors (bad JSON, too large) → 400/413.
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    if (err instanceof LockstepError) {
      sendError(res, err.code, err.message);
      return;
    }
    const status = (err as { status?: unknown }).status;
    if (status === 413) sendError(res, 'too-large', 'request body too large');
    else if (typeof status === 'number' && status >= 400 && status < 500)
      sendError(res, 'bad-request', 'malformed request body');
    else {
      log.error({ err }, 'API request failed');
      sendError(res, 'internal', 'internal error');
    }
  });
  return router;
}
