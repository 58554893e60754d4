// Tests that plant or read etcd entries by hand (forged, misfiled, another
// kind's) go through the product's one codec (server/cluster/signed-entry.ts).
import type { z } from 'zod';
import type { Logger } from '../../protocol/logger.js';
import { getLogger } from '../../protocol/logger.js';
import type { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { SignedEntry } from '../../server/cluster/signed-entry.js';

const log = getLogger('sealed-entries');

/** `value` sealed under `secret` for `purpose` at `key`, as a server writes it. */
export function sealEntry<T>(
  secret: ClusterSecret,
  purpose: string,
  key: string,
  schema: z.ZodType<T>,
  value: T,
): string {
  return new SignedEntry({ secret, purpose, schema, log }).seal(key, value);
}

/** The value, or null (logged on `logger`) when it does not open. */
export function openEntry<T>(
  secret: ClusterSecret,
  purpose: string,
  schema: z.ZodType<T>,
  logger: Logger,
  key: string,
  raw: string,
): T | null {
  return new SignedEntry({ secret, purpose, schema, log: logger }).tryOpen(key, raw);
}
