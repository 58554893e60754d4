// Where each session's replicas run, cluster-wide: the leader writes one
// entry per session (replica id → node, home server, warm/hot) through its
// FencedWriter, so a deposed leader's write is refused inside etcd with
// NotLeaderError; every server follows the table and picks out the replicas
// its own nodes must run. Entries carry an HMAC under the cluster secret over
// key and value; a forged or misfiled one is ignored and logged.
import { SessionPlacementSchema, type PlacedReplica, type SessionPlacement } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { BadRequestError } from '../errors.js';
import type { PrefixFollower } from './prefix-follower.js';
import type { Assignment, PlacementTableEvents, PlacementTableOptions } from './placement-table-types.js';
import { SignedEntry } from './signed-entry.js';

const log = getLogger('placement-table');
const PURPOSE = 'placement-entry';
const enc = (s: string): string => encodeURIComponent(s);

export class PlacementTable extends TypedEmitter<PlacementTableEvents> {
  readonly #o: PlacementTableOptions;
  readonly #codec: SignedEntry<SessionPlacement>;
  readonly #follower: PrefixFollower<SessionPlacement>;
  readonly #now: () => number;

  private constructor(
    options: PlacementTableOptions,
    codec: SignedEntry<SessionPlacement>,
    follower: PrefixFollower<SessionPlacement>,
  ) {
    super();
    this.#o = options;
    this.#codec = codec;
    this.#now = options.now ?? Date.now;
    this.#follower = follower;
    follower.on('put', (_key, p) => this.emit('changed', p.sessionId, p));
    follower.on('delete', (_key, p) => this.emit('changed', p.sessionId, null));
  }

  static async create(options: PlacementTableOptions): Promise<PlacementTable> {
    const prefix = `${options.namespace}cluster/placement/`;
    const codec = new SignedEntry({
      secret: options.secret,
      purpose: PURPOSE,
      schema: SessionPlacementSchema,
      log,
      keyOf: (p) => `${prefix}${enc(p.sessionId)}`,
    });
    return new PlacementTable(options, codec, await codec.follow(options.client, prefix, 'placement'));
  }

  get(sessionId: string): SessionPlacement | null {
    return this.#follower.get(enc(sessionId));
  }

  list(): SessionPlacement[] {
    return [...this.#follower.entries().values()];
  }

  /** The replicas homed on `serverId`: what that server's nodes must run. */
  assignedTo(serverId: string): Assignment[] {
    return this.list().flatMap((p) =>
      p.replicas.filter((r) => r.homeServerId === serverId).map((replica) => ({ sessionId: p.sessionId, replica })),
    );
  }

  /** Leader only: sets a session's placement (NotLeaderError, nothing written, on any other server). */
  async write(
    sessionId: string,
    replicas: PlacedReplica[],
    extra: Pick<SessionPlacement, 'nextOrdinal' | 'quarantinedHosts' | 'appFailureVotes' | 'appFailure'> = {},
  ): Promise<SessionPlacement> {
    const ids = new Set(replicas.map((r) => r.replicaId));
    if (ids.size !== replicas.length) {
      throw new BadRequestError(`placement of ${sessionId} names a replica twice`, { sessionId });
    }
    const term = this.#o.writer.term({ sessionId });
    const placement: SessionPlacement = {
      sessionId,
      replicas,
      ...(extra.nextOrdinal === undefined ? {} : { nextOrdinal: extra.nextOrdinal }),
      ...(extra.quarantinedHosts?.length ? { quarantinedHosts: extra.quarantinedHosts } : {}),
      ...(extra.appFailureVotes?.length ? { appFailureVotes: extra.appFailureVotes } : {}),
      ...(extra.appFailure ? { appFailure: extra.appFailure } : {}),
      term,
      writtenAt: this.#now(),
    };
    // The fenced write re-checks the term inside etcd: a deposed leader's entry is never written.
    await this.#codec.fencedPut(this.#o.writer, this.#key(sessionId), placement);
    return placement;
  }

  /** Leader only: drops a closed session's placement. */
  async remove(sessionId: string): Promise<void> {
    await this.#o.writer.write([{ op: 'delete', key: this.#key(sessionId) }]);
  }

  close(): Promise<void> {
    return this.#follower.close();
  }

  #key(sessionId: string): string {
    return `${this.#follower.prefix}${enc(sessionId)}`;
  }
}
