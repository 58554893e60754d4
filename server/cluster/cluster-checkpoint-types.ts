// Types of the cluster-wide snapshot checkpoint (checkpoint-leader.ts, checkpoint-relay.ts).
import type { Etcd3 } from 'etcd3';
import type { InputLog } from '../input-log.js';
import type { SessionManagerEvents } from '../session-manager.js';
import type { DurableSession } from '../session-core/session-core.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { FencedWriter } from './fenced-writer.js';
import type { LeaderElection } from './leader-election.js';
import type { NodeDirectory } from './node-directory.js';
import type { PlacementTable } from './placement-table.js';
import type { ServerRegistry } from './server-registry.js';

export interface CheckpointLeaderOptions {
  client: Etcd3;
  namespace: string;
  election: LeaderElection;
  writer: FencedWriter;
  secret: ClusterSecret;
  placement: PlacementTable;
  nodes: NodeDirectory;
  /** The shared log: confirmed snapshots are stored and the log truncated through it. */
  log: InputLog;
  /** A checkpoint is asked once the head is this many inputs past the last confirmed snapshot (config.snapshotEvery). */
  snapshotEvery: number;
  /** The session's replication factor (the quorum is counted against it); null when unknown here. */
  replicationFactor: (sessionId: string) => number | null;
  /** A checkpoint without quorum this long is dropped and asked again (default 10 s). */
  timeoutMs?: number;
  /** Pass period while leading (default 1 s). */
  everyMs?: number;
  now?: () => number;
}

type RelayEvent = 'checkpointanswer' | 'sessionclosed';

/** What the relay uses of this server's SessionManager: its answers and closes, the sessions here, the checkpoint calls. */
export interface CheckpointRelayManager {
  readonly sessions: { has(sessionId: string): boolean };
  on<K extends RelayEvent>(event: K, listener: (...args: SessionManagerEvents[K]) => void): unknown;
  off<K extends RelayEvent>(event: K, listener: (...args: SessionManagerEvents[K]) => void): unknown;
  checkpointWanted(sessionId: string, seq: number): void;
  adoptClusterSnapshot(sessionId: string): Promise<DurableSession | null>;
}

export interface CheckpointRelayOptions {
  client: Etcd3;
  namespace: string;
  registry: ServerRegistry;
  secret: ClusterSecret;
  manager: CheckpointRelayManager;
  /** The shared log: a confirmed snapshot's stored bytes are checked against the sealed record before adoption. */
  log: InputLog;
  /** Raw bytes per stored chunk (default 512 KiB: under 1 MiB once base64-encoded). */
  chunkBytes?: number;
}
