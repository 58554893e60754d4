// The leader's word to a node to move home (rebalance), in etcd under
// `<ns>cluster/rehome/<node>`: written fenced on the leader's term (a deposed
// leader's directive is refused inside etcd) and sealed under the cluster
// secret over key and value (a forged or misfiled entry does not open). The
// node's home server relays a directive to the node; the target server
// confirms it to the node from here (GET /api/rehome), so a node moves only on
// two servers' word that etcd holds the leader's directive.
import { randomBytes } from 'node:crypto';
import { RehomeDirectiveSchema, type RehomeDirective } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import type { PrefixFollower } from './prefix-follower.js';
import type { RehomeDirectivesEvents, RehomeDirectivesOptions } from './rehome-directives-types.js';
import { SignedEntry } from './signed-entry.js';

export type * from './rehome-directives-types.js';

const log = getLogger('rehome-directives');
const PURPOSE = 'rehome-directive';
const enc = (s: string): string => encodeURIComponent(s);

export type NewDirective = Pick<RehomeDirective, 'nodeId' | 'fromServerId' | 'toServerId' | 'toUrl' | 'expiresAt'>;

export class RehomeDirectives extends TypedEmitter<RehomeDirectivesEvents> {
  readonly #o: RehomeDirectivesOptions;
  readonly #codec: SignedEntry<RehomeDirective>;
  readonly #follower: PrefixFollower<RehomeDirective>;
  readonly #now: () => number;

  private constructor(
    options: RehomeDirectivesOptions,
    codec: SignedEntry<RehomeDirective>,
    follower: PrefixFollower<RehomeDirective>,
  ) {
    super();
    this.#o = options;
    this.#codec = codec;
    this.#now = options.now ?? Date.now;
    this.#follower = follower;
    follower.on('put', (_key, d) => this.emit('issued', d));
    follower.on('delete', (_key, d) => this.emit('cleared', d));
  }

  static async create(options: RehomeDirectivesOptions): Promise<RehomeDirectives> {
    const prefix = `${options.namespace}cluster/rehome/`;
    const codec = new SignedEntry({
      secret: options.secret,
      purpose: PURPOSE,
      schema: RehomeDirectiveSchema,
      log,
      keyOf: (d) => `${prefix}${enc(d.nodeId)}`,
    });
    return new RehomeDirectives(options, codec, await codec.follow(options.client, prefix, 'rehome directive'));
  }

  list(): RehomeDirective[] {
    return [...this.#follower.entries().values()];
  }

  /** The standing directive for `nodeId` that has not expired yet, or null. */
  current(nodeId: string, now: number = this.#now()): RehomeDirective | null {
    const d = this.#follower.get(enc(nodeId));
    return d && now < d.expiresAt ? d : null;
  }

  /** Leader only: directs a node to move (NotLeaderError, nothing written, on any other server). */
  async issue(d: NewDirective): Promise<RehomeDirective> {
    const directive: RehomeDirective = {
      ...d,
      directiveId: `rh-${randomBytes(8).toString('hex')}`,
      issuedAt: this.#now(),
      term: this.#o.writer.term({ nodeId: d.nodeId }),
    };
    await this.#codec.fencedPut(this.#o.writer, this.#key(d.nodeId), directive);
    return directive;
  }

  /** Leader only: the move is done or void. */
  async clear(nodeId: string): Promise<void> {
    await this.#o.writer.write([{ op: 'delete', key: this.#key(nodeId) }]);
  }

  close(): Promise<void> {
    return this.#follower.close();
  }

  #key(nodeId: string): string {
    return `${this.#follower.prefix}${enc(nodeId)}`;
  }
}
