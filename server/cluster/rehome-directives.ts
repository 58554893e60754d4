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
import { NotLeaderError } from './cluster-errors.js';
import { PrefixFollower } from './prefix-follower.js';
import type { RehomeDirectivesEvents, RehomeDirectivesOptions } from './rehome-directives-types.js';
import { openEntry, sealEntry } from './signed-entry.js';

export type * from './rehome-directives-types.js';

const log = getLogger('rehome-directives');
const PURPOSE = 'rehome-directive';
const enc = (s: string): string => encodeURIComponent(s);

export type NewDirective = Pick<RehomeDirective, 'nodeId' | 'fromServerId' | 'toServerId' | 'toUrl' | 'expiresAt'>;

export class RehomeDirectives extends TypedEmitter<RehomeDirectivesEvents> {
  readonly #o: RehomeDirectivesOptions;
  readonly #follower: PrefixFollower<RehomeDirective>;
  readonly #now: () => number;

  private constructor(options: RehomeDirectivesOptions, follower: PrefixFollower<RehomeDirective>) {
    super();
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#follower = follower;
    follower.on('put', (_key, d) => this.emit('issued', d));
    follower.on('delete', (_key, d) => this.emit('cleared', d));
  }

  static async create(options: RehomeDirectivesOptions): Promise<RehomeDirectives> {
    const prefix = `${options.namespace}cluster/rehome/`;
    const follower = await PrefixFollower.create<RehomeDirective>({
      client: options.client,
      prefix,
      what: 'rehome directive',
      open: (key, raw) => {
        const d = openEntry(options.secret, PURPOSE, RehomeDirectiveSchema, log, key, raw);
        if (d && key !== `${prefix}${enc(d.nodeId)}`) {
          log.warn({ key, nodeId: d.nodeId }, 'rehome directive under another key: ignored');
          return null;
        }
        return d;
      },
    });
    return new RehomeDirectives(options, follower);
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
    const verdict = this.#o.election.verdict();
    if (!verdict.leader) {
      throw new NotLeaderError(`not the cluster leader (${verdict.reason})`, { nodeId: d.nodeId });
    }
    const directive: RehomeDirective = {
      ...d,
      directiveId: `rh-${randomBytes(8).toString('hex')}`,
      issuedAt: this.#now(),
      term: verdict.revision,
    };
    const key = this.#key(d.nodeId);
    await this.#o.writer.write([
      { op: 'put', key, value: sealEntry(this.#o.secret, PURPOSE, key, RehomeDirectiveSchema, directive) },
    ]);
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
