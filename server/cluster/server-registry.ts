// The cluster's live servers. Each server puts its signed entry under its own
// lease (kept alive by the etcd3 client; re-registered when the lease is lost,
// e.g. after a quorum loss), so a dead server's entry disappears when its lease
// expires. Every server follows the list through a PrefixFollower (a watch on
// the prefix, a paged re-list whenever the watch reconnects); an entry whose
// HMAC under the cluster secret does not verify is ignored (and logged), never
// listed.
import type { Etcd3, Lease } from 'etcd3';
import { ServerInfoSchema, SignedServerEntrySchema, type ServerInfo } from '../../protocol/cluster.js';
import { getLogger } from '../../protocol/logger.js';
import { DurabilityError } from '../errors.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import type { ClusterSecret } from './cluster-secret.js';
import { etcdCall } from './etcd-client.js';
import { PrefixFollower } from './prefix-follower.js';
import type { ServerRegistryEvents, ServerRegistryOptions } from './server-registry-types.js';

const log = getLogger('server-registry');
const ENTRY_PURPOSE = 'server-entry';

/** Parses and authenticates one stored entry; null (logged) when it is not a genuine server's. */
export function openServerEntry(secret: ClusterSecret, key: string, raw: string): ServerInfo | null {
  try {
    const entry = SignedServerEntrySchema.parse(JSON.parse(raw));
    if (!secret.verify(ENTRY_PURPOSE, entry.info, entry.mac)) {
      log.warn({ key }, 'server entry failed its cluster-secret check: ignored');
      return null;
    }
    const info = ServerInfoSchema.parse(JSON.parse(entry.info));
    if (key.slice(key.lastIndexOf('/') + 1) !== encodeURIComponent(info.id)) {
      log.warn({ key, id: info.id }, 'server entry under another server id: ignored');
      return null;
    }
    return info;
  } catch (err) {
    log.warn({ key, err: err instanceof Error ? err.message : String(err) }, 'malformed server entry: ignored');
    return null;
  }
}

export function sealServerEntry(secret: ClusterSecret, info: ServerInfo): string {
  const text = JSON.stringify(ServerInfoSchema.parse(info));
  return JSON.stringify({ info: text, mac: secret.sign(ENTRY_PURPOSE, text) });
}

export class ServerRegistry extends TypedEmitter<ServerRegistryEvents> {
  readonly self: ServerInfo;
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #secret: ClusterSecret;
  readonly #ttlSeconds: number;
  readonly #pageSize: number;
  readonly #retryMs: number;
  #follower: PrefixFollower<ServerInfo> | null = null;
  #lease: Lease | null = null;
  #retry: NodeJS.Timeout | null = null;
  #closed = false;

  private constructor(options: ServerRegistryOptions) {
    super();
    this.self = options.self;
    this.#client = options.client;
    this.#prefix = `${options.namespace}cluster/servers/`;
    this.#secret = options.secret;
    this.#ttlSeconds = options.ttlSeconds ?? 3;
    this.#pageSize = options.pageSize ?? 100;
    this.#retryMs = options.retryMs ?? 500;
  }

  /** Registers this server and starts following the list (resolves once both are in place). */
  static async create(options: ServerRegistryOptions): Promise<ServerRegistry> {
    const registry = new ServerRegistry(options);
    try {
      await registry.#register();
      const follower = await PrefixFollower.create({
        client: registry.#client,
        prefix: registry.#prefix,
        what: 'server',
        open: (key, raw) => openServerEntry(registry.#secret, key, raw),
        pageSize: registry.#pageSize,
        retryMs: registry.#retryMs,
      });
      registry.#follower = follower;
      const changed = (): void => void registry.emit('changed', registry.list());
      follower.on('put', changed);
      follower.on('delete', changed);
    } catch (err) {
      await registry.close();
      throw err;
    }
    return registry;
  }

  /** The live servers, this one included once its entry is back from etcd, by id. */
  list(): ServerInfo[] {
    return [...(this.#follower?.entries().values() ?? [])].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#retry) clearTimeout(this.#retry);
    await this.#follower?.close();
    // Leaving cleanly: the entry goes at once instead of at lease expiry.
    await this.#lease?.revoke().catch(() => undefined);
  }

  #key(id: string): string {
    return `${this.#prefix}${encodeURIComponent(id)}`;
  }

  async #register(): Promise<void> {
    const lease = this.#client.lease(this.#ttlSeconds);
    lease.on('lost', (err) => {
      if (this.#closed || this.#lease !== lease) return;
      log.warn({ err: err.message, id: this.self.id }, 'registry lease lost: registering again');
      this.#lease = null;
      this.#scheduleRegister();
    });
    try {
      await etcdCall('register server', () =>
        lease.put(this.#key(this.self.id)).value(sealServerEntry(this.#secret, this.self)).exec(),
      );
    } catch (err) {
      lease.release();
      throw err;
    }
    this.#lease = lease;
    this.emit('registered');
  }

  /**
   * Puts `key` under this server's registry lease, so it vanishes when the
   * server dies (the node directory's entries). Throws DurabilityError while
   * no lease is held; `registered` says when to put again.
   */
  async putUnderLease(key: string, value: string): Promise<void> {
    const lease = this.#lease;
    if (!lease) throw new DurabilityError('no registry lease right now (registering again)', { key });
    await etcdCall('leased put', () => lease.put(key).value(value).exec());
  }

  #scheduleRegister(): void {
    if (this.#closed || this.#retry) return;
    this.#retry = setTimeout(() => {
      this.#retry = null;
      this.#register().catch((err: unknown) => {
        log.debug({ err }, 'register failed: retrying');
        this.#scheduleRegister();
      });
    }, this.#retryMs);
  }
}
