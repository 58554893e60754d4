// This server's part in a cluster over etcd (`--store etcd:`): its entry in
// the server registry (and the durable record of its origins), its candidacy for leader and the FencedWriter the
// leader's cluster-wide jobs write through, and what several servers need to
// serve one session: the input feed (every server's appends), the session
// watch, the node directory, the placement table (written by the leader's
// PlacementLeader) and the replica health board. Created only in cluster
// mode; the single-server default never opens any of it. Closing cascades, the
// pieces built on others first.
import type { Etcd3 } from 'etcd3';
import type { ServerInfo } from '../../protocol/cluster.js';
import { getLogger } from '../../protocol/logger.js';
import type { ClusterSecret } from './cluster-secret.js';
import { openEtcdClient, type EtcdClientOptions } from './etcd-client.js';
import { FencedWriter } from './fenced-writer.js';
import type { HomeRebalanceOptions } from './home-rebalance.js';
import { InputFeed } from './input-feed.js';
import { LeaderElection } from './leader-election.js';
import { NodeDirectory } from './node-directory.js';
import { OriginRecord } from './origin-record.js';
import { PlacementLeader } from './placement-leader.js';
import { PlacementTable } from './placement-table.js';
import { RehomeDirectives } from './rehome-directives.js';
import { ReplicaHealthBoard } from './replica-health-board.js';
import { ServerRegistry } from './server-registry.js';
import { SessionWatch } from './session-watch.js';
import { Upkeep } from './upkeep.js';

const log = getLogger('cluster-member');

/** config.cluster.rehomeHoldMs's default (server/config.ts), for members built without it. */
const DEFAULT_REHOME_HOLD_MS = 10_000;

export interface ClusterMemberOptions extends EtcdClientOptions {
  namespace: string;
  self: ServerInfo;
  secret: ClusterSecret;
  /** Registry lease TTL in seconds (default 3). */
  registryTtlSeconds?: number;
  /** Upkeep schedule (config.cluster.upkeep); Upkeep's defaults when left out. */
  upkeep?: { everyMs: number; defragEvery: number; keepRevisions: number };
  /** Input feed re-read period (InputFeed's resyncMs). */
  feedResyncMs?: number;
  /** How long the leader keeps the entry of a replica whose node left the directory (it may be re-homing). */
  rehomeHoldMs?: number;
  /** Health reports are written at most this often per session (ReplicaHealthBoard's flushEveryMs). */
  healthFlushMs?: number;
  /** The leader's rebalance of node homes (left out or null: nodes stay where they are). */
  rebalance?: HomeRebalanceOptions | null;
}

interface Parts {
  client: Etcd3;
  registry: ServerRegistry;
  origins: OriginRecord;
  election: LeaderElection;
  writer: FencedWriter;
  upkeep: Upkeep;
  feed: InputFeed;
  sessions: SessionWatch;
  nodes: NodeDirectory;
  placement: PlacementTable;
  health: ReplicaHealthBoard;
  placer: PlacementLeader;
  rehome: RehomeDirectives;
}

/** A registry id from an advertise URL: its host:port, in the id alphabet. */
export function serverIdFromUrl(url: string): string {
  return new URL(url).host.replace(/[^A-Za-z0-9._-]/g, '-').slice(0, 64);
}

export class ClusterMember {
  readonly client: Etcd3;
  readonly registry: ServerRegistry;
  /** Every origin the cluster's servers have had, gone ones too (durable, sealed). */
  readonly origins: OriginRecord;
  readonly election: LeaderElection;
  readonly writer: FencedWriter;
  readonly upkeep: Upkeep;
  /** Every server's appends to the sessions this server follows (add/remove them as it hosts them). */
  readonly feed: InputFeed;
  /** Sessions created and closed by any server. */
  readonly sessions: SessionWatch;
  /** Every server's renderer nodes; publish this server's own. */
  readonly nodes: NodeDirectory;
  /** Where every session's replicas run (the leader writes it). */
  readonly placement: PlacementTable;
  /** What every home server reports of its replicas (this server reports its own). */
  readonly health: ReplicaHealthBoard;
  /** Places every session's replicas over the cluster while this server leads. */
  readonly placer: PlacementLeader;
  /** The leader's directives to nodes to move home (this server relays its nodes' and confirms its own). */
  readonly rehome: RehomeDirectives;
  #closed = false;

  private constructor(parts: Parts) {
    this.client = parts.client;
    this.registry = parts.registry;
    this.origins = parts.origins;
    this.election = parts.election;
    this.writer = parts.writer;
    this.upkeep = parts.upkeep;
    this.feed = parts.feed;
    this.sessions = parts.sessions;
    this.nodes = parts.nodes;
    this.placement = parts.placement;
    this.health = parts.health;
    this.placer = parts.placer;
    this.rehome = parts.rehome;
  }

  static async create(options: ClusterMemberOptions): Promise<ClusterMember> {
    const client = openEtcdClient(options);
    const { namespace, secret } = options;
    /** What is up so far, closed newest first if a later part fails to start. */
    const opened: Array<{ close(): Promise<void> }> = [];
    const open = async <T extends { close(): Promise<void> }>(part: Promise<T>): Promise<T> => {
      const p = await part;
      opened.push(p);
      return p;
    };
    try {
      const registry = await open(
        ServerRegistry.create({
          client,
          namespace,
          self: options.self,
          secret,
          ...(options.registryTtlSeconds === undefined ? {} : { ttlSeconds: options.registryTtlSeconds }),
        }),
      );
      const origins = await open(OriginRecord.create({ client, namespace, secret, registry }));
      const election = await open(LeaderElection.create({ client, namespace, serverId: options.self.id }));
      const writer = new FencedWriter(client, election);
      const upkeep = await open(
        Upkeep.create({
          client,
          election,
          writer,
          memberUrls: options.hosts,
          namespace,
          secret,
          ...options.upkeep,
        }),
      );
      const feed = await open(
        InputFeed.create({
          client,
          namespace,
          ...(options.feedResyncMs === undefined ? {} : { resyncMs: options.feedResyncMs }),
        }),
      );
      const sessions = await open(SessionWatch.create({ client, namespace }));
      const nodes = await open(NodeDirectory.create({ client, namespace, registry, secret }));
      const placement = await open(PlacementTable.create({ client, namespace, election, writer, secret }));
      const health = await open(
        ReplicaHealthBoard.create({
          client,
          namespace,
          registry,
          secret,
          ...(options.healthFlushMs === undefined ? {} : { flushEveryMs: options.healthFlushMs }),
        }),
      );
      const rehome = await open(RehomeDirectives.create({ client, namespace, election, writer, secret }));
      const placer = new PlacementLeader({
        election,
        placement,
        nodes,
        registry,
        sessions,
        health,
        holdMs: options.rehomeHoldMs ?? DEFAULT_REHOME_HOLD_MS,
        ...(options.rebalance ? { rebalance: { directives: rehome, options: options.rebalance } } : {}),
      });
      log.info({ id: options.self.id, url: options.self.url, insecure: secret.insecure }, 'joined the cluster');
      return new ClusterMember({
        client,
        registry,
        origins,
        election,
        writer,
        upkeep,
        feed,
        sessions,
        nodes,
        placement,
        health,
        placer,
        rehome,
      });
    } catch (err) {
      for (const part of opened.reverse()) await part.close().catch(() => undefined);
      client.close();
      throw err;
    }
  }

  /** Closes every part, those built on others first, then the etcd client. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.placer.close();
    await this.rehome.close();
    await this.health.close();
    await this.placement.close();
    await this.nodes.close();
    await this.sessions.close();
    await this.feed.close();
    await this.upkeep.close();
    await this.election.close();
    await this.origins.close();
    await this.registry.close();
    this.client.close();
  }
}
