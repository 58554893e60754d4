// Values one server writes to etcd for the others (node directory, placement
// table), sealed with an HMAC under the cluster secret: the purpose separates
// the kinds (a node entry's MAC never passes as a placement's) and the key is
// covered too, so a genuine entry copied under another key does not open.
import type { z } from 'zod';
import { SignedEntrySchema } from '../../protocol/cluster-state.js';
import type { Logger } from '../../protocol/logger.js';
import type { ClusterSecret } from './cluster-secret.js';

export function sealEntry<T>(
  secret: ClusterSecret,
  purpose: string,
  key: string,
  schema: z.ZodType<T>,
  value: T,
): string {
  const payload = JSON.stringify(schema.parse(value));
  return JSON.stringify({ payload, mac: secret.sign(purpose, `${key}\n${payload}`) });
}

/** The value, or null (logged on `log`) when it is malformed or fails its MAC. */
export function openEntry<T>(
  secret: ClusterSecret,
  purpose: string,
  schema: z.ZodType<T>,
  log: Logger,
  key: string,
  raw: string,
): T | null {
  try {
    const entry = SignedEntrySchema.parse(JSON.parse(raw));
    if (!secret.verify(purpose, `${key}\n${entry.payload}`, entry.mac)) {
      log.warn({ key, purpose }, 'entry failed its cluster-secret check: ignored');
      return null;
    }
    return schema.parse(JSON.parse(entry.payload));
  } catch (err) {
    log.warn({ key, purpose, err: err instanceof Error ? err.message : String(err) }, 'malformed entry: ignored');
    return null;
  }
}
