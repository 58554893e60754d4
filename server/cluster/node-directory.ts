// The cluster's renderer nodes. Each server publishes the nodes connected to
// it under its own registry lease (so they vanish when the server dies) and
// follows every server's entries. Entries carry an HMAC under the cluster
// secret over key and value; one that fails it, or that claims a node or home
// server other than its key names, is ignored and logged.
import { ClusterNodeInfoSchema, type ClusterNodeInfo } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { BadRequestError } from '../errors.js';
import type { ClusterSecret } from './cluster-secret.js';
import { etcdCall } from './etcd-client.js';
import type { NodeDirectoryEvents, NodeDirectoryOptions } from './node-directory-types.js';
import type { PrefixFollower } from './prefix-follower.js';
import { SignedEntry } from './signed-entry.js';

const log = getLogger('node-directory');
const PURPOSE = 'node-entry';
const enc = (s: string): string => encodeURIComponent(s);

export class NodeDirectory extends TypedEmitter<NodeDirectoryEvents> {
  readonly serverId: string;
  readonly #o: NodeDirectoryOptions;
  readonly #codec: SignedEntry<ClusterNodeInfo>;
  readonly #follower: PrefixFollower<ClusterNodeInfo>;
  /** This server's nodes and the entry last written for each (an unchanged entry is not written again). */
  readonly #mine = new Map<string, { info: ClusterNodeInfo; sealed: string | null }>();
  readonly #onRegistered = (): void => this.#republish();
  #writing: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(
    options: NodeDirectoryOptions,
    codec: SignedEntry<ClusterNodeInfo>,
    follower: PrefixFollower<ClusterNodeInfo>,
  ) {
    super();
    this.serverId = options.registry.self.id;
    this.#o = options;
    this.#codec = codec;
    this.#follower = follower;
    follower.on('put', (_key, info) => this.emit('node', info));
    follower.on('delete', (_key, info) => this.emit('nodeGone', info));
    options.registry.on('registered', this.#onRegistered);
  }

  static async create(options: NodeDirectoryOptions): Promise<NodeDirectory> {
    const prefix = `${options.namespace}cluster/nodes/`;
    const codec = nodeEntries(options.secret, prefix);
    return new NodeDirectory(options, codec, await codec.follow(options.client, prefix, 'node'));
  }

  /** Every live node of the cluster, by node id. */
  list(): ClusterNodeInfo[] {
    return [...this.#follower.entries().values()].sort((a, b) =>
      a.nodeId < b.nodeId ? -1 : a.nodeId > b.nodeId ? 1 : 0,
    );
  }

  /** The nodes homed on `serverId`. */
  homedOn(serverId: string): ClusterNodeInfo[] {
    return this.list().filter((n) => n.homeServerId === serverId);
  }

  /**
   * Publishes (or updates) one of this server's nodes. Unchanged entries are
   * not written again; callers still rate-limit load updates (each is an etcd write).
   */
  async publish(info: ClusterNodeInfo): Promise<void> {
    if (info.homeServerId !== this.serverId) {
      throw new BadRequestError(`node ${info.nodeId} is homed on ${info.homeServerId}, not on this server`, {
        nodeId: info.nodeId,
      });
    }
    const parsed = ClusterNodeInfoSchema.parse(info);
    const prior = this.#mine.get(parsed.nodeId);
    this.#mine.set(parsed.nodeId, { info: parsed, sealed: prior?.sealed ?? null });
    // One write at a time, so an older update never lands after a newer one.
    const run = this.#writing.catch(() => undefined).then(() => this.#write(parsed));
    this.#writing = run;
    return run;
  }

  async #write(info: ClusterNodeInfo): Promise<void> {
    const mine = this.#mine.get(info.nodeId);
    if (!mine || mine.info !== info) return; // superseded or unpublished meanwhile
    const key = this.#key(info);
    const sealed = this.#codec.seal(key, info);
    if (mine.sealed === sealed) return;
    await this.#o.registry.putUnderLease(key, sealed);
    mine.sealed = sealed;
  }

  /** Takes one of this server's nodes out of the directory (it disconnected). */
  async unpublish(nodeId: string): Promise<void> {
    const mine = this.#mine.get(nodeId);
    if (!mine) return;
    this.#mine.delete(nodeId);
    const run = this.#writing
      .catch(() => undefined)
      .then(async () => {
        await etcdCall('unpublish node', () => this.#o.client.delete().key(this.#key(mine.info)).exec());
      });
    this.#writing = run;
    return run;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.registry.off('registered', this.#onRegistered);
    await this.#follower.close();
  }

  #key(info: Pick<ClusterNodeInfo, 'homeServerId' | 'nodeId'>): string {
    return `${this.#follower.prefix}${enc(info.homeServerId)}/${enc(info.nodeId)}`;
  }

  /** The registry lease was lost and taken again: the entries under the old one are gone. */
  #republish(): void {
    for (const [nodeId, mine] of this.#mine) {
      mine.sealed = null;
      this.publish(mine.info).catch((err: unknown) =>
        log.warn({ err, nodeId }, 'republishing a node failed (the next update or re-register retries)'),
      );
    }
  }
}

/** Parses and authenticates one entry; null (logged) unless it is a genuine server's, under its own key. */
export function openNodeEntry(secret: ClusterSecret, prefix: string, key: string, raw: string): ClusterNodeInfo | null {
  return nodeEntries(secret, prefix).tryOpen(key, raw);
}

/** Node entries under `prefix`: each under `<home server>/<node>`. */
function nodeEntries(secret: ClusterSecret, prefix: string): SignedEntry<ClusterNodeInfo> {
  return new SignedEntry({
    secret,
    purpose: PURPOSE,
    schema: ClusterNodeInfoSchema,
    log,
    keyOf: (n) => `${prefix}${enc(n.homeServerId)}/${enc(n.nodeId)}`,
  });
}
