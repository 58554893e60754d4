// A short, stable fingerprint of an app state: replicas compare these to prove
// they agree without shipping whole snapshots around.
import { createHash } from 'node:crypto';

/** sha256 of canonical snapshot bytes, as the first 32 hex characters. */
export function stateHashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}
