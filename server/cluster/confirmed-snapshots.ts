// The confirmed cluster snapshots (sealed records a leader wrote), followed by
// the leader (what is already confirmed) and by every server's relay (what new
// replicas restore from): one reader, so both open and key-check them alike.
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../../protocol/logger.js';
import { ConfirmedSnapshotSchema, type ConfirmedSnapshot } from '../../protocol/cluster-state.js';
import { checkpointKeys, PURPOSE } from './checkpoint-keys.js';
import type { ClusterSecret } from './cluster-secret.js';
import { PrefixFollower } from './prefix-follower.js';
import { openEntry } from './signed-entry.js';

export function followConfirmedSnapshots(
  o: { client: Etcd3; namespace: string; secret: ClusterSecret },
  log: Logger,
): Promise<PrefixFollower<ConfirmedSnapshot>> {
  const ns = o.namespace;
  return PrefixFollower.create<ConfirmedSnapshot>({
    client: o.client,
    prefix: checkpointKeys.confirmedAll(ns),
    what: 'confirmed snapshot',
    open: (key, raw) => {
      const c = openEntry(o.secret, PURPOSE.confirmed, ConfirmedSnapshotSchema, log, key, raw);
      return c && key === checkpointKeys.confirmed(ns, c.sessionId) ? c : null;
    },
  });
}
