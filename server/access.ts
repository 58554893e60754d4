// Who may connect. Renderer nodes need the cluster join token when one is
// configured (LOCKSTEP_JOIN_TOKEN); viewers in this first cut share one local
// owner with full control. Token-based viewer access (owners, share links,
// roles) replaces `authenticateViewer` without touching the gateways.
import { timingSafeEqual, createHash } from 'node:crypto';
import { getLogger } from '../protocol/logger.js';
import type { ViewerIdentity } from './viewer-gateway.js';

const log = getLogger('access');

function digest(s: string): Buffer {
  return createHash('sha256').update(s).digest();
}

export class Access {
  readonly #joinTokenDigest: Buffer | undefined;

  private constructor(joinToken: string | undefined) {
    this.#joinTokenDigest = joinToken ? digest(joinToken) : undefined;
    if (!joinToken) log.warn('no LOCKSTEP_JOIN_TOKEN set: any renderer node may join (development mode)');
  }

  static fromEnv(): Access {
    return new Access(process.env.LOCKSTEP_JOIN_TOKEN || undefined);
  }

  /** Constant-time comparison of digests: no timing leak of the token. */
  authorizeNode(token: string): boolean {
    if (!this.#joinTokenDigest) return true;
    return timingSafeEqual(digest(token), this.#joinTokenDigest);
  }

  authenticateViewer(_token: string): ViewerIdentity | null {
    return { owner: 'local', role: 'control' };
  }
}
