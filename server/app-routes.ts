// REST for published apps, under /api/apps: `POST` uploads a bundle (raw bytes,
// `Content-Type: application/octet-stream`, the publisher's sha-256 in
// X-Lockstep-Bundle-Sha256), `GET` lists what is published. Owner tokens only
// (the operator's or another owner's); share links cannot publish or list.
import express, { Router, type NextFunction, type Request, type Response } from 'express';
import { BUNDLE_HASH_HEADER, PublishHeadersSchema, type PublishedAppInfo } from '../protocol/bundle.js';
import { HTTP_STATUS } from '../protocol/errors.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import type { Access, ViewerIdentity } from './access.js';
import { BundleTooLargeError } from './bundle-errors.js';
import type { BundleStore } from './bundle-store.js';
import { BadRequestError, ForbiddenError, LockstepError, UnauthorizedError } from './errors.js';
import { requestToken } from './operator-routes.js';
import { TokenBucket } from './rate-limit.js';

const log = getLogger('app-routes');

/** Uploads are rare and up to 8 MiB each: a bound per server, not per token (each buffers up to 8 MiB). */
const PUBLISHES_PER_SECOND = 20;

export interface AppRoutesDeps {
  access: Access;
  bundles: BundleStore;
}

async function ownerOf(access: Access, req: Request): Promise<ViewerIdentity> {
  const token = requestToken(req);
  const id = token === null ? null : await access.authenticateViewer(token);
  if (!id || Date.now() >= id.expiresAt) {
    throw new UnauthorizedError('a valid token is required (Authorization: Bearer <token>)', {});
  }
  if (id.kind !== 'owner') throw new ForbiddenError('published apps need an owner token, not a share link', {});
  return id;
}

export function appRoutes(deps: AppRoutesDeps): Router {
  const router = Router();
  const publishes = new TokenBucket(PUBLISHES_PER_SECOND, 'publishes');
  router.use((req, res, next) => {
    res.setHeader('Cache-Control', 'no-store');
    ownerOf(deps.access, req).then(
      (identity) => {
        (res.locals as { identity: ViewerIdentity }).identity = identity;
        next();
      },
      (err: unknown) => next(err),
    );
  });
  router.get('/', (_req, res) => {
    const apps: PublishedAppInfo[] = deps.bundles.list();
    res.json({ apps });
  });
  router.post(
    '/',
    (_req, _res, next) => {
      try {
        publishes.take();
        next();
      } catch (err) {
        next(err);
      }
    },
    // Bounded before anything is buffered: express.raw stops reading past the limit (413 below).
    express.raw({ type: 'application/octet-stream', limit: LIMITS.maxBundleBytes }),
    (req, res) => {
      const headers = PublishHeadersSchema.safeParse({ hash: req.headers[BUNDLE_HASH_HEADER] });
      if (!headers.success) {
        throw new BadRequestError(`${BUNDLE_HASH_HEADER}: the sha-256 (hex) of the body is required`, {});
      }
      if (!Buffer.isBuffer(req.body)) {
        throw new BadRequestError('the body must be the bundle bytes (Content-Type: application/octet-stream)', {});
      }
      const { owner } = (res.locals as { identity: ViewerIdentity }).identity;
      const existed = deps.bundles.get(headers.data.hash) !== null;
      const app = deps.bundles.publish(req.body, headers.data.hash, owner);
      res.status(existed ? 200 : 201).json({ app });
    },
  );
  router.use((err: unknown, _req: Request, res: Response, next: NextFunction) => {
    if (res.headersSent) {
      next(err);
      return;
    }
    const tooLarge = (err as { type?: unknown }).type === 'entity.too.large';
    const e =
      err instanceof LockstepError
        ? err
        : tooLarge
          ? new BundleTooLargeError(`bundle larger than ${LIMITS.maxBundleBytes} bytes`, {})
          : null;
    if (!e) {
      log.error({ err }, 'app route failed');
      res.status(500).json({ error: { code: 'internal', message: 'internal error' } });
      return;
    }
    if (e.code === 'bad-request' || e.code === 'too-large' || e.code === 'conflict') {
      log.warn({ err: e.message, ...e.context }, 'bundle refused');
    }
    if (e.code === 'unauthorized') res.setHeader('WWW-Authenticate', 'Bearer realm="lockstep"');
    res.status(HTTP_STATUS[e.code]).json({ error: { code: e.code, message: e.message } });
  });
  return router;
}
