// Every write the leader makes for a cluster-wide job goes through here: the
// transaction carries a compare on the leader key's create revision (the term
// this server won), so a paused or partitioned old leader whose term etcd has
// already handed on cannot write, even if its own clock has not noticed yet.
// A refusal is a typed NotLeaderError and the server steps down. A write
// made for one term (a value stamped with it) is refused with StaleFenceError
// once this server's term is another, before anything reaches etcd.
import type { Etcd3 } from 'etcd3';
import { BadRequestError, type ErrorContext } from '../errors.js';
import { NotLeaderError, StaleFenceError } from './cluster-errors.js';
import { etcdCall } from './etcd-client.js';
import type { LeaderElection } from './leader-election.js';
import { fencedOutcome, type TermVerdict } from './leader-term.js';

export type FencedOp =
  { op: 'put'; key: string; value: string } | { op: 'delete'; key: string } | { op: 'delete-prefix'; prefix: string };

/** etcd's default --max-txn-ops. */
const MAX_TXN_OPS = 128;

export class FencedWriter {
  readonly #client: Etcd3;
  readonly #election: LeaderElection;

  constructor(client: Etcd3, election: LeaderElection) {
    this.#client = client;
    this.#election = election;
  }

  /** This server's term as its election sees it now. */
  verdict(): TermVerdict {
    return this.#election.verdict();
  }

  /** The term a leader's value is stamped with now; NotLeaderError (with `context`) on any other server. */
  term(context: ErrorContext = {}): string {
    const verdict = this.#election.verdict();
    if (!verdict.leader) {
      throw new NotLeaderError(`not the cluster leader (${verdict.reason})`, {
        serverId: this.#election.serverId,
        reason: verdict.reason,
        ...context,
      });
    }
    return verdict.revision;
  }

  /**
   * Applies `ops` atomically if and only if this server still holds the term etcd knows (and, given `forTerm`,
   * that term is the one the ops were made for: StaleFenceError otherwise); returns the revision.
   */
  async write(ops: readonly FencedOp[], forTerm?: string): Promise<string> {
    if (ops.length === 0 || ops.length > MAX_TXN_OPS) {
      throw new BadRequestError(`a fenced write takes 1..${MAX_TXN_OPS} operations, got ${ops.length}`);
    }
    const verdict = this.#election.verdict();
    if (!verdict.leader) {
      throw new NotLeaderError(`not the cluster leader (${verdict.reason})`, {
        serverId: this.#election.serverId,
        reason: verdict.reason,
      });
    }
    if (forTerm !== undefined && forTerm !== verdict.revision) {
      throw new StaleFenceError('fenced write refused: made for an earlier term of this server', {
        serverId: this.#election.serverId,
        term: verdict.revision,
        madeFor: forTerm,
      });
    }
    const res = await etcdCall('fenced write', () =>
      this.#client
        .if(this.#election.leaderKey, 'Create', '==', verdict.revision)
        .then(...ops.map((o) => this.#op(o)))
        .commit(),
    );
    if (fencedOutcome(verdict, () => res.succeeded) !== 'written') {
      this.#election.stepDown('fenced');
      throw new NotLeaderError('fenced write refused: another server holds the leadership now', {
        serverId: this.#election.serverId,
        term: verdict.revision,
      });
    }
    return res.header.revision;
  }

  #op(o: FencedOp): ReturnType<Etcd3['put']> | ReturnType<Etcd3['delete']> {
    switch (o.op) {
      case 'put':
        return this.#client.put(o.key).value(o.value);
      case 'delete':
        return this.#client.delete().key(o.key);
      case 'delete-prefix':
        return this.#client.delete().prefix(o.prefix);
    }
  }
}
