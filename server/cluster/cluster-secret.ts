// The cluster secret: whatever servers say to each other (registry entries in
// etcd, server-to-server HTTP requests) carries an HMAC-SHA256 under it, so a
// party that can write to etcd or reach a server's port but lacks the secret
// cannot pose as a server. Verification is constant-time.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { ClusterAuthError, ClusterConfigError } from './cluster-errors.js';

/** Shorter secrets are refused: 32 characters of base64 is 192 bits. */
export const MIN_CLUSTER_SECRET_CHARS = 32;
/** A signed request older (or further in the future) than this is refused: bounds replay. */
export const REQUEST_MAX_SKEW_MS = 30_000;
/** Header names of a signed server-to-server request. */
export const CLUSTER_MAC_HEADER = 'x-lockstep-cluster-mac';
export const CLUSTER_TIME_HEADER = 'x-lockstep-cluster-time';

/** What the development secret is derived from when LOCKSTEP_INSECURE_DEV=1 and none is set. */
const INSECURE_DEV_SECRET = 'lockstep-insecure-dev-cluster-secret-not-for-networks';

export interface SignedRequest {
  method: string;
  /** Path and query, as sent. */
  path: string;
  body: string;
}

export class ClusterSecret {
  readonly #key: Buffer;
  /** True when this is the public development secret (LOCKSTEP_INSECURE_DEV=1). */
  readonly insecure: boolean;

  private constructor(key: Buffer, insecure: boolean) {
    this.#key = key;
    this.insecure = insecure;
  }

  /**
   * The secret from configuration: required (and long enough) unless
   * insecureDev, where a well-known development secret stands in.
   */
  static fromConfig(secret: string | undefined, insecureDev: boolean): ClusterSecret {
    if (secret === undefined) {
      if (insecureDev) return new ClusterSecret(Buffer.from(INSECURE_DEV_SECRET), true);
      throw new ClusterConfigError(
        'LOCKSTEP_CLUSTER_SECRET is required with --store etcd: (the same random value on every server; ' +
          'generate one with `openssl rand -base64 32`), or set LOCKSTEP_INSECURE_DEV=1 for development',
      );
    }
    if (secret.length < MIN_CLUSTER_SECRET_CHARS) {
      throw new ClusterConfigError(`LOCKSTEP_CLUSTER_SECRET must be at least ${MIN_CLUSTER_SECRET_CHARS} characters`);
    }
    return new ClusterSecret(Buffer.from(secret, 'utf8'), false);
  }

  /**
   * A secret known to this server alone (the single-server default, where no
   * cluster secret exists): signs what only this server must vouch for later,
   * such as replica tickets. The key is random and stored in the server's database.
   */
  static local(key: Buffer): ClusterSecret {
    if (key.length < 32) throw new ClusterConfigError('a local server key must be at least 32 bytes');
    return new ClusterSecret(Buffer.from(key), false);
  }

  /** base64url HMAC of `payload` under `purpose` (domain separation: an entry MAC is never a request MAC). */
  sign(purpose: string, payload: string): string {
    return createHmac('sha256', this.#key).update(purpose).update('\0').update(payload).digest('base64url');
  }

  verify(purpose: string, payload: string, mac: string): boolean {
    const expected = Buffer.from(this.sign(purpose, payload), 'base64url');
    const given = Buffer.from(mac, 'base64url');
    return given.length === expected.length && timingSafeEqual(given, expected);
  }

  /** Headers that authenticate one server-to-server request (method, path, body and time are covered). */
  requestHeaders(req: SignedRequest, now: number = Date.now()): Record<string, string> {
    const time = String(now);
    return { [CLUSTER_TIME_HEADER]: time, [CLUSTER_MAC_HEADER]: this.sign('request', requestPayload(req, time)) };
  }

  /** Throws ClusterAuthError unless the headers authenticate the request within the allowed clock skew. */
  verifyRequest(req: SignedRequest, time: string | undefined, mac: string | undefined, now: number = Date.now()): void {
    if (time === undefined || mac === undefined) throw new ClusterAuthError('unsigned server-to-server request');
    const at = /^\d{1,16}$/.test(time) ? Number(time) : Number.NaN;
    if (!Number.isSafeInteger(at) || Math.abs(now - at) > REQUEST_MAX_SKEW_MS) {
      throw new ClusterAuthError('server-to-server request is stale or from the future', { time });
    }
    if (!this.verify('request', requestPayload(req, time), mac)) {
      throw new ClusterAuthError('server-to-server request failed its cluster-secret check');
    }
  }
}

function requestPayload(req: SignedRequest, time: string): string {
  return `${req.method.toUpperCase()}\n${req.path}\n${time}\n${req.body}`;
}
