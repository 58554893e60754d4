// This server's part in a cluster over etcd (`--store etcd:`): its entry in
// the server registry, its candidacy for leader and the FencedWriter the
// leader's cluster-wide jobs write through. Created only in cluster mode;
// the single-server default never opens any of it.
import type { Etcd3 } from 'etcd3';
import type { ServerInfo } from '../../protocol/cluster.js';
import { getLogger } from '../../protocol/logger.js';
import type { ClusterSecret } from './cluster-secret.js';
import { openEtcdClient, type EtcdClientOptions } from './etcd-client.js';
import { FencedWriter } from './fenced-writer.js';
import { LeaderElection } from './leader-election.js';
import { ServerRegistry } from './server-registry.js';
import { Upkeep } from './upkeep.js';

const log = getLogger('cluster-member');

export interface ClusterMemberOptions extends EtcdClientOptions {
  namespace: string;
  self: ServerInfo;
  secret: ClusterSecret;
  /** Registry lease TTL in seconds (default 3). */
  registryTtlSeconds?: number;
  /** Ids of closed sessions whose keys are still in etcd (the leader's upkeep deletes them) … */
  closedSessions: () => string[];
  /** … and is told which it deleted. */
  purged: (sessionIds: string[]) => void;
  /** Upkeep schedule (config.cluster.upkeep); Upkeep's defaults when left out. */
  upkeep?: { everyMs: number; defragEvery: number; keepRevisions: number };
}

/** A registry id from an advertise URL: its host:port, in the id alphabet. */
export function serverIdFromUrl(url: string): string {
  return new URL(url).host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
}

export class ClusterMember {
  readonly client: Etcd3;
  readonly registry: ServerRegistry;
  readonly election: LeaderElection;
  readonly writer: FencedWriter;
  readonly upkeep: Upkeep;

  private constructor(parts: {
    client: Etcd3;
    registry: ServerRegistry;
    election: LeaderElection;
    writer: FencedWriter;
    upkeep: Upkeep;
  }) {
    this.client = parts.client;
    this.registry = parts.registry;
    this.election = parts.election;
    this.writer = parts.writer;
    this.upkeep = parts.upkeep;
  }

  static async create(options: ClusterMemberOptions): Promise<ClusterMember> {
    const client = openEtcdClient(options);
    let registry: ServerRegistry | null = null;
    try {
      registry = await ServerRegistry.create({
        client,
        namespace: options.namespace,
        self: options.self,
        secret: options.secret,
        ...(options.registryTtlSeconds === undefined ? {} : { ttlSeconds: options.registryTtlSeconds }),
      });
      const election = await LeaderElection.create({ client, namespace: options.namespace, serverId: options.self.id });
      const writer = new FencedWriter(client, election);
      const upkeep = await Upkeep.create({
        client,
        election,
        writer,
        memberUrls: options.hosts,
        namespace: options.namespace,
        closedSessions: () => Promise.resolve(options.closedSessions()),
        purged: options.purged,
        ...options.upkeep,
      });
      log.info({ id: options.self.id, url: options.self.url, insecure: options.secret.insecure }, 'joined the cluster');
      return new ClusterMember({ client, registry, election, writer, upkeep });
    } catch (err) {
      await registry?.close();
      client.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await this.upkeep.close();
    await this.election.close();
    await this.registry.close();
    this.client.close();
  }
}
