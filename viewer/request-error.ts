// The typed error a viewer request rejects with: the server's WireError code
// and message, plus the viewer's own codes for transport trouble.
// Type-only import: protocol/errors.ts builds zod schemas at load time and
// would pull zod into the browser bundle.
import type { ErrorCode } from '../protocol/errors.js';

/** Every code, checked against ErrorCode by the compiler (missing or extra keys fail). */
const KNOWN_CODES: Record<ErrorCode, true> = {
  'bad-request': true,
  unauthorized: true,
  forbidden: true,
  'not-found': true,
  conflict: true,
  'rate-limited': true,
  'too-large': true,
  'headers-too-large': true,
  'unwanted-input': true,
  unavailable: true,
  internal: true,
};

export class ViewerRequestError extends Error {
  override readonly name = 'ViewerRequestError';
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
  }

  /**
   * Worth sending again later: the request never reached a verdict, or (for
   * inputs) an earlier input must land first (`conflict`: out of order).
   */
  get retryable(): boolean {
    return this.code === 'unavailable' || this.code === 'rate-limited' || this.code === 'conflict';
  }
}

export function isErrorCode(v: unknown): v is ErrorCode {
  return typeof v === 'string' && Object.hasOwn(KNOWN_CODES, v);
}

/** Anything thrown that is not a ViewerRequestError counts as a transport failure (retryable). */
export function isRetryableError(err: unknown): boolean {
  return err instanceof ViewerRequestError ? err.retryable : true;
}
