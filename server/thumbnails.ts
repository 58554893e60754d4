// Live thumbnails for the session list: renderer nodes send a small JPEG of
// each replica's last frame every few seconds; the server keeps the newest
// one per session in memory (never on disk: it is a preview, not state) and
// serves it at GET /api/sessions/:id/thumbnail.jpg. One replica per session is
// the source; the others' are declined, so a warm standby (which would have
// to draw its state for it) does not make thumbnails nobody sees.
import { createHash } from 'node:crypto';
import type { Request, RequestHandler } from 'express';
import { LIMITS } from '../protocol/limits.js';
import { THUMBNAIL_TIMING } from '../protocol/thumbnail-timing.js';
import { IdSchema } from '../protocol/session.js';

export interface Thumbnail {
  jpeg: Buffer;
  /** ms since the epoch when it arrived. */
  at: number;
  replicaId: string;
  etag: string;
}

/** JPEG files start with SOI + a marker (FF D8 FF). */
export function isJpeg(data: Buffer): boolean {
  return data.length >= 4 && data[0] === 0xff && data[1] === 0xd8 && data[2] === 0xff;
}

/** What a thumbnail must be: a JPEG within the size bound. */
export function isThumbnailJpeg(data: Buffer): boolean {
  return data.length <= LIMITS.maxThumbnailBytes && isJpeg(data);
}

export class ThumbnailStore {
  readonly #bySession = new Map<string, Thumbnail>();
  /** The replica last told (by an offer) that its thumbnail is wanted, until its thumbnail arrives. */
  readonly #claims = new Map<string, { replicaId: string; at: number }>();
  readonly #now: () => number;

  constructor(now: () => number = Date.now) {
    this.#now = now;
  }

  /**
   * Whether the session wants a thumbnail from `replicaId` now: yes from its
   * current source, from a watched replica while the source is not watched
   * (any more: after a failover, the replica switched to takes over at once),
   * and from anyone once the source has been silent for `sourceStaleMs` (its
   * host died, or nothing changed); no otherwise. `watched`: whether a viewer
   * watches a replica's stream now.
   */
  wants(sessionId: string, replicaId: string, watched: (replicaId: string) => boolean): boolean {
    // Another replica was told a moment ago to make one (offer): it is the source-to-be, by the same rule.
    const claim = this.#claims.get(sessionId);
    if (claim && claim.replicaId !== replicaId && this.#now() - claim.at < THUMBNAIL_TIMING.intervalMs) {
      if (!(watched(replicaId) && !watched(claim.replicaId))) return false;
    }
    const source = this.#bySession.get(sessionId);
    if (!source || source.replicaId === replicaId) return true;
    if (watched(replicaId) && !watched(source.replicaId)) return true;
    return this.#now() - source.at > THUMBNAIL_TIMING.sourceStaleMs;
  }

  /**
   * A node asks, before drawing anything, whether `replicaId`'s thumbnail is wanted (the rule of wants). A yes
   * is remembered for one thumbnail interval, so the session's other replicas asking meanwhile (all of them
   * at a session's start, before any has a thumbnail here) are told no instead of all drawing one.
   */
  offer(sessionId: string, replicaId: string, watched: (replicaId: string) => boolean): boolean {
    if (!this.wants(sessionId, replicaId, watched)) return false;
    this.#claims.set(sessionId, { replicaId, at: this.#now() });
    return true;
  }

  /** Keeps `jpeg` as the session's thumbnail; false (and nothing kept) when it is not a bounded JPEG. */
  put(sessionId: string, replicaId: string, jpeg: Buffer): boolean {
    if (!isThumbnailJpeg(jpeg)) return false;
    if (this.#claims.get(sessionId)?.replicaId === replicaId) this.#claims.delete(sessionId);
    const etag = `"${createHash('sha1').update(jpeg).digest('base64url').slice(0, 16)}"`;
    this.#bySession.set(sessionId, { jpeg, at: this.#now(), replicaId, etag });
    return true;
  }

  get(sessionId: string): Thumbnail | undefined {
    return this.#bySession.get(sessionId);
  }

  forget(sessionId: string): void {
    this.#bySession.delete(sessionId);
    this.#claims.delete(sessionId);
  }

  get size(): number {
    return this.#bySession.size;
  }
}

/**
 * The REST handler. `canSee` decides with the same rules as the rest of the
 * REST layer; a session the caller may not see answers 404 like a missing one.
 */
export function thumbnailHandler(deps: {
  thumbnails: ThumbnailStore;
  canSee: (req: Request, sessionId: string) => Promise<boolean>;
}): RequestHandler {
  return async (req, res) => {
    const id = IdSchema.safeParse(req.params.id);
    let visible: boolean;
    try {
      visible = id.success && (await deps.canSee(req, id.data));
    } catch {
      // The credential store cannot answer (etcd without quorum): say so, not "no such session".
      res.status(503).json({ error: { code: 'unavailable', message: 'credentials cannot be checked now' } });
      return;
    }
    if (!id.success || !visible) {
      res.status(404).json({ error: { code: 'not-found', message: 'no such session' } });
      return;
    }
    const thumb = deps.thumbnails.get(id.data);
    if (!thumb) {
      res.status(404).json({ error: { code: 'not-found', message: 'no thumbnail yet' } });
      return;
    }
    // Private: it shows the session's content; revalidate every time (it changes every few seconds).
    res.setHeader('Cache-Control', 'private, no-cache');
    res.setHeader('ETag', thumb.etag);
    res.setHeader('Last-Modified', new Date(thumb.at).toUTCString());
    if (req.headers['if-none-match'] === thumb.etag) {
      res.status(304).end();
      return;
    }
    res.type('image/jpeg').send(thumb.jpeg);
  };
}
