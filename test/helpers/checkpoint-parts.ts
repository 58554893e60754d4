// The in-process parts of the cluster checkpoint on a suite's real etcd, for
// tests that drive them one step at a time: a shared log, two home servers'
// registries and node directories (node na on pa, nb on pb), and a leader's
// parts (election, fenced writer, placement table, checkpoint leader driven by
// runOnce) on any server.
import { CheckpointLeader } from '../../server/cluster/checkpoint-leader.js';
import type { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { FencedWriter } from '../../server/cluster/fenced-writer.js';
import { LeaderElection } from '../../server/cluster/leader-election.js';
import { NodeDirectory } from '../../server/cluster/node-directory.js';
import { PlacementTable } from '../../server/cluster/placement-table.js';
import { ServerRegistry } from '../../server/cluster/server-registry.js';
import { EtcdInputLog } from '../../server/log/etcd-input-log.js';
import type { EtcdSuite } from './etcd-suite.js';
import { until } from './etcd-suite.js';
import { keyDown } from './key-input.js';
import { clusterNode as node, clusterServer as server } from './node-view.js';

export interface LeaderParts {
  election: LeaderElection;
  writer: FencedWriter;
  placement: PlacementTable;
  checkpoints: CheckpointLeader;
}

export interface CheckpointParts {
  log: EtcdInputLog;
  registries: Map<string, ServerRegistry>;
  /** pa's node directory (the leader counts hosts from it). */
  nodes: NodeDirectory;
  leaderParts: (serverId: string) => Promise<LeaderParts>;
  /** The leader places `sessionId` (replica r1 on na/pa, r2 on nb/pb) and six inputs go into the log. */
  placeAndType: (leader: LeaderParts, sessionId: string) => Promise<void>;
  /** Keeps `close` for the end (run newest first by closeAll). */
  closers: Array<() => Promise<unknown>>;
  closeAll: () => Promise<void>;
}

export async function checkpointParts(etcd: EtcdSuite, ns: string, secret: ClusterSecret): Promise<CheckpointParts> {
  const closers: Array<() => Promise<unknown>> = [];
  const closeAll = async (): Promise<void> => {
    for (const close of closers.reverse()) await close().catch(() => undefined);
  };
  try {
    const log = await EtcdInputLog.connect({ hosts: etcd.cluster().clientUrls, namespace: ns });
    closers.push(() => log.close());
    const registries = new Map<string, ServerRegistry>();
    const dirs: NodeDirectory[] = [];
    for (const [id, nodeId] of [
      ['pa', 'na'],
      ['pb', 'nb'],
    ] as const) {
      const registry = await ServerRegistry.create({ client: etcd.client(), namespace: ns, self: server(id), secret });
      closers.push(() => registry.close());
      registries.set(id, registry);
      const dir = await NodeDirectory.create({ client: etcd.client(), namespace: ns, registry, secret });
      closers.push(() => dir.close());
      dirs.push(dir);
      await dir.publish(node(nodeId, id));
    }
    const nodes = dirs[0] as NodeDirectory;
    await until(() => nodes.list().length === 2, 5000, 'both nodes in the directory');
    const leaderParts = async (serverId: string): Promise<LeaderParts> => {
      const election = await LeaderElection.create({ client: etcd.client(), namespace: ns, serverId });
      closers.push(() => election.close());
      const writer = new FencedWriter(etcd.client(), election);
      const placement = await PlacementTable.create({ client: etcd.client(), namespace: ns, election, writer, secret });
      closers.push(() => placement.close());
      const checkpoints = await CheckpointLeader.create({
        client: etcd.client(),
        namespace: ns,
        election,
        writer,
        secret,
        placement,
        nodes,
        log,
        snapshotEvery: 5,
        replicationFactor: () => 2,
        everyMs: 3_600_000, // driven by runOnce
      });
      closers.push(() => checkpoints.close());
      return { election, writer, placement, checkpoints };
    };
    const placeAndType = async (leader: LeaderParts, sessionId: string): Promise<void> => {
      await leader.placement.write(sessionId, [
        { replicaId: `${sessionId}.r1`, nodeId: 'na', homeServerId: 'pa', mode: 'warm' },
        { replicaId: `${sessionId}.r2`, nodeId: 'nb', homeServerId: 'pb', mode: 'warm' },
      ]);
      await until(() => leader.placement.get(sessionId) !== null, 5000, 'the placement entry');
      await log.appendBatch(
        [...'abcdef'].map((ch, i) => ({ sessionId, clientId: 'c', clientSeq: i, time: i, event: keyDown(ch) })),
      );
    };
    return { log, registries, nodes, leaderParts, placeAndType, closers, closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}
