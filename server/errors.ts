// Typed server errors. Each carries a wire `code` (protocol/errors.ts) so the
// socket layer can map any of them to a `fail(...)` reply without guessing, and
// a `context` object with the ids needed to act on it from a log line alone.
// Add new classes below as plain `class X extends LockstepError` entries.
import type { ErrorCode } from '../protocol/errors.js';
import type { AppendResult } from './input-log.js';

export type ErrorContext = Readonly<Record<string, unknown>>;

export abstract class LockstepError extends Error {
  abstract readonly code: ErrorCode;
  readonly context: ErrorContext;

  constructor(message: string, context: ErrorContext = {}, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.context = context;
  }
}

/** The request is malformed (wrong types, bad ids, invalid event). */
export class BadRequestError extends LockstepError {
  readonly code = 'bad-request' as const;
}

/** A clientSeq skipped ahead of the next expected one: resend from `expected` (retryable). */
export class OutOfOrderError extends LockstepError {
  readonly code = 'conflict' as const;
}

/** A numeric argument is well-formed but outside what is acceptable (e.g. a clientSeq jumping too far ahead). */
export class OutOfRangeError extends LockstepError {
  readonly code = 'bad-request' as const;
}

export class NotFoundError extends LockstepError {
  readonly code = 'not-found' as const;
}

/** The write contradicts stored state (existing id, snapshot with a different hash for the same seq). */
export class ConflictError extends LockstepError {
  readonly code = 'conflict' as const;
}

/** An owner already holds the maximum number of open sessions. */
export class QuotaExceededError extends LockstepError {
  readonly code = 'forbidden' as const;
}

/** Truncation would drop inputs that no stored snapshot covers. */
export class UnsafeTruncationError extends LockstepError {
  readonly code = 'conflict' as const;
}

/** The durable write failed: nothing of the batch was acknowledged or fanned out. */
export class DurabilityError extends LockstepError {
  readonly code = 'unavailable' as const;
}

/** The component was closed; it accepts no more work. */
export class ClosedError extends LockstepError {
  readonly code = 'unavailable' as const;
}

/** A stored input row no longer parses as an InputEvent. */
export class CorruptInputError extends LockstepError {
  readonly code = 'internal' as const;
}

/** A stored session or token record no longer parses (written without the code's schema). */
export class CorruptRecordError extends LockstepError {
  readonly code = 'internal' as const;
}

/** The database schema is missing, newer than this code, or a migration failed. */
export class SchemaError extends LockstepError {
  readonly code = 'internal' as const;
}

/** The database could not be opened with the settings durability depends on. */
export class DatabaseError extends LockstepError {
  readonly code = 'internal' as const;
}

// ---- media, signalling and access (added by the server core) ----

/** The patched mediasoup worker was not built: run the setup script. */
/** The database file fails SQLite's own consistency check: starting on it would serve damaged data. */
export class CorruptDatabaseError extends LockstepError {
  readonly code = 'internal' as const;
}

export class WorkerBinaryMissingError extends LockstepError {
  readonly code = 'unavailable' as const;
  constructor(path: string) {
    super(`mediasoup worker binary not found at ${path}; run \`npm run setup\``, { path });
  }
}

/** The client has not authenticated, or its credential is invalid or expired. */
export class UnauthorizedError extends LockstepError {
  readonly code = 'unauthorized' as const;
}

/** Authenticated, but this role may not do that (e.g. a view-only viewer sending input). */
export class ForbiddenError extends LockstepError {
  readonly code = 'forbidden' as const;
}

/**
 * A node's request on a connection the server holds no registration for (never registered, or forgotten: a
 * heartbeat timeout, a newer connection of the node). Its details say `registered: false`, so the node
 * registers again instead of sending into the void (render/renderer-node.ts).
 */
export class NotRegisteredError extends ForbiddenError {}

/** Too many requests in a window. */
export class RateLimitedError extends LockstepError {
  readonly code = 'rate-limited' as const;
}

/** No renderer node can host what was asked (app version, capacity, distinct hosts). */
export class UnavailableError extends LockstepError {
  readonly code = 'unavailable' as const;
}

/** The server configuration is unsafe or inconsistent (e.g. no join token outside dev mode). */
export class ConfigError extends LockstepError {
  readonly code = 'internal' as const;
}

/**
 * A batch the store had to split into several transactions failed part way:
 * `written` holds the results of its leading requests, which are durable (in
 * request order); nothing from the first unwritten request on was written.
 */
export class PartialAppendError extends DurabilityError {
  readonly written: readonly AppendResult[];
  constructor(message: string, written: readonly AppendResult[], context: ErrorContext, options?: { cause?: unknown }) {
    super(message, { ...context, written: written.length }, options);
    this.written = written;
  }
}

/** A body over its size bound (an imported file). */
export class TooLargeError extends LockstepError {
  readonly code = 'too-large' as const;
}

/** The session's app failed deterministically at an input (replicas on enough hosts failed there): no input is taken after it. */
export class AppFailedError extends LockstepError {
  readonly code = 'conflict' as const;
}

/**
 * An input the session's app does not read (a key release to an app whose manifest says `keyUps: false`):
 * refused for good and never logged. Its clientSeq is passed over by the contiguity rule (sequencer.ts).
 */
export class UnwantedInputError extends LockstepError {
  readonly code = 'unwanted-input' as const;
}
