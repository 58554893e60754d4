// The durable record of the cluster's server origins (issue 13): each server
// writes its own origin under <ns>cluster/origins/ when it joins, sealed
// under the cluster secret, with no lease, so it outlives the server. A
// server restarted after a peer died still lets that peer's pages in
// (peer-origins.ts): they keep reconnecting to the cluster, Origin naming the
// dead server. An entry whose MAC does not verify (a party with etcd access
// but without the secret) is never used. Bounded: the newest MAX_ORIGINS by
// when a server last registered under them; the writer deletes older ones.
import type { Etcd3 } from 'etcd3';
import { PeerOriginSchema, type PeerOrigin, type ServerInfo } from '../../protocol/cluster.js';
import { getLogger } from '../../protocol/logger.js';
import type { ClusterSecret } from './cluster-secret.js';
import { etcdCall } from './etcd-client.js';
import type { PrefixFollower } from './prefix-follower.js';
import type { ServerRegistry } from './server-registry.js';
import { SignedEntry } from './signed-entry.js';

const log = getLogger('origin-record');
const PURPOSE = 'peer-origin';

/** Origins kept in the record (oldest by last registration forgotten first). */
export const MAX_ORIGINS = 256;

export interface OriginRecordOptions {
  client: Etcd3;
  namespace: string;
  secret: ClusterSecret;
  registry: ServerRegistry;
  now?: () => number;
}

export class OriginRecord {
  readonly #o: OriginRecordOptions;
  readonly #codec: SignedEntry<PeerOrigin>;
  readonly #follower: PrefixFollower<PeerOrigin>;
  readonly #onRegistered: () => void;
  #closed = false;

  private constructor(o: OriginRecordOptions, codec: SignedEntry<PeerOrigin>, follower: PrefixFollower<PeerOrigin>) {
    this.#o = o;
    this.#codec = codec;
    this.#follower = follower;
    this.#onRegistered = () => void this.#record().catch((err: unknown) => log.warn({ err }, 'origin not recorded'));
    o.registry.on('registered', this.#onRegistered);
  }

  /** Records this server's origin and follows everyone's (resolves once both are done). */
  static async create(o: OriginRecordOptions): Promise<OriginRecord> {
    const prefix = `${o.namespace}cluster/origins/`;
    const codec = new SignedEntry({
      secret: o.secret,
      purpose: PURPOSE,
      schema: PeerOriginSchema,
      log,
      // Only a canonical origin, under its own key.
      keyOf: (e) => (new URL(e.origin).origin === e.origin ? originKey(prefix, e.origin) : null),
    });
    const record = new OriginRecord(o, codec, await codec.follow(o.client, prefix, 'origin'));
    try {
      await record.#record();
    } catch (err) {
      await record.close();
      throw err;
    }
    return record;
  }

  /** The recorded origins, the most recently registered first, at most MAX_ORIGINS. */
  origins(): string[] {
    return this.#newestFirst()
      .slice(0, MAX_ORIGINS)
      .map((e) => e.origin);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#o.registry.off('registered', this.#onRegistered);
    await this.#follower.close();
  }

  #newestFirst(): PeerOrigin[] {
    return [...this.#follower.entries().values()].sort((a, b) => b.seenAt - a.seenAt);
  }

  /** Writes this server's own origin (it holds the cluster secret: this is an authenticated write), then prunes. */
  async #record(): Promise<void> {
    if (this.#closed) return;
    const self: ServerInfo = this.#o.registry.self;
    const origin = new URL(self.url).origin;
    const key = originKey(this.#follower.prefix, origin);
    const value = this.#codec.seal(key, { origin, seenAt: (this.#o.now ?? Date.now)() });
    await etcdCall('record origin', () => this.#o.client.put(key).value(value).exec());
    for (const old of this.#newestFirst().slice(MAX_ORIGINS)) {
      const oldKey = originKey(this.#follower.prefix, old.origin);
      await etcdCall('forget origin', () => this.#o.client.delete().key(oldKey).exec());
    }
  }
}

function originKey(prefix: string, origin: string): string {
  return `${prefix}${encodeURIComponent(origin)}`;
}
