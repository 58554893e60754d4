// A session's placement-table entry as a cluster test reads it straight from
// etcd, opened with the test's cluster secret (null: none, or not genuine).
import type { Etcd3 } from 'etcd3';
import { SessionPlacementSchema, type SessionPlacement } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openEntry } from './sealed-entries.js';

export function placementReader(
  client: Etcd3,
  secret: string,
): (sessionId: string) => Promise<SessionPlacement | null> {
  const key = ClusterSecret.fromConfig(secret, false);
  const log = getLogger('placement-reader');
  return async (sessionId) => {
    const at = `lockstep/cluster/placement/${encodeURIComponent(sessionId)}`;
    const raw = await client.get(at).string();
    return raw === null ? null : openEntry(key, 'placement-entry', SessionPlacementSchema, log, at, raw);
  };
}
