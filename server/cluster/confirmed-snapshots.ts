// The confirmed cluster snapshots (sealed records a leader wrote), followed by
// the leader (what is already confirmed) and by every server's relay (what new
// replicas restore from): one reader, so both open and key-check them alike.
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../../protocol/logger.js';
import type { ConfirmedSnapshot } from '../../protocol/cluster-state.js';
import { checkpointEntries } from './checkpoint-entries.js';
import { checkpointKeys } from './checkpoint-keys.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { PrefixFollower } from './prefix-follower.js';

export function followConfirmedSnapshots(
  o: { client: Etcd3; namespace: string; secret: ClusterSecret },
  log: Logger,
): Promise<PrefixFollower<ConfirmedSnapshot>> {
  return checkpointEntries(o.secret, o.namespace, log).confirmed.follow(
    o.client,
    checkpointKeys.confirmedAll(o.namespace),
    'confirmed snapshot',
  );
}
