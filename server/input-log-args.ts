// Argument rules every InputLog implementation applies the same way, so a bad
// call gets the same typed error whatever the store.
import { BadRequestError, ConflictError, OutOfRangeError } from './errors.js';
import type { StoredSnapshot } from './input-log.js';

export function requireInt(name: string, value: number, min: number, context: Record<string, unknown>): void {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new BadRequestError(`${name} must be an integer >= ${min}`, { ...context, [name]: value });
  }
}

export function requireSnapshotArgs(s: Omit<StoredSnapshot, 'createdAt'>): void {
  requireInt('seq', s.seq, 0, { sessionId: s.sessionId });
  if (typeof s.stateHash !== 'string' || s.stateHash.length === 0) {
    throw new BadRequestError('snapshot stateHash must be a non-empty string', {
      sessionId: s.sessionId,
      seq: s.seq,
    });
  }
  if (!Buffer.isBuffer(s.data)) {
    throw new BadRequestError('snapshot data must be a Buffer', { sessionId: s.sessionId, seq: s.seq });
  }
}

/** A snapshot may only describe a state the log can reach. */
export function requireSnapshotWithinHead(s: Omit<StoredSnapshot, 'createdAt'>, headSeq: number): void {
  if (s.seq > headSeq) {
    throw new OutOfRangeError(`snapshot seq ${s.seq} is beyond the session head ${headSeq}`, {
      sessionId: s.sessionId,
      seq: s.seq,
      headSeq,
    });
  }
}

/** Storing a seq again is idempotent for the same hash; a different hash is a conflict. */
export function requireSameSnapshot(storedHash: string, s: Omit<StoredSnapshot, 'createdAt'>): void {
  if (storedHash === s.stateHash) return;
  // Two replicas disagree on the state at the same seq: never overwrite silently.
  throw new ConflictError(`snapshot for seq ${s.seq} already stored with a different state hash`, {
    sessionId: s.sessionId,
    seq: s.seq,
    storedHash,
    newHash: s.stateHash,
  });
}
