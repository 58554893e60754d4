// A snapshot checkpoint: the server asks every replica of a session for its
// state at one seq and trusts the bytes only when replicas on a majority of
// the session's distinct hosts (at least two) agree on the same state hash.
// One host's word alone never truncates the log. Pure: no sockets, no clock.
import { ForbiddenError } from '../errors.js';

export interface CheckpointTarget {
  replicaId: string;
  hostId: string;
}

export interface CheckpointDecision {
  seq: number;
  stateHash: string;
  data: Buffer;
  /** Hosts that reported this hash. */
  hosts: string[];
}

/** Agreeing hosts needed to trust a snapshot: a strict majority of the session's hosts, never fewer than two. */
export function snapshotQuorum(sessionHosts: number): number {
  const n = Math.max(0, Math.floor(sessionHosts));
  return Math.max(2, Math.floor(n / 2) + 1);
}

export class SnapshotCheckpoint {
  readonly seq: number;
  readonly requestedAt: number;
  readonly quorum: number;
  /** replicaId → hostId of the replicas asked. */
  readonly #asked: Map<string, string>;
  /** replicaId → what it reported. */
  readonly #reports = new Map<string, { stateHash: string; data: Buffer }>();

  /**
   * `sessionHosts`: how many distinct hosts the session should span (its
   * replication factor, or more if more are asked). The quorum is counted
   * against that, not against who happens to answer.
   */
  constructor(seq: number, targets: readonly CheckpointTarget[], sessionHosts: number, requestedAt: number) {
    this.seq = seq;
    this.requestedAt = requestedAt;
    this.#asked = new Map(targets.map((t) => [t.replicaId, t.hostId]));
    const hosts = new Set(targets.map((t) => t.hostId)).size;
    this.quorum = snapshotQuorum(Math.max(sessionHosts, hosts));
  }

  asked(replicaId: string): boolean {
    return this.#asked.has(replicaId);
  }

  /**
   * Records one replica's answer (its bytes already checked against its hash
   * by the caller). Anything not asked for is refused: an unsolicited snapshot
   * is exactly what a hostile node would send.
   */
  report(replicaId: string, seq: number, stateHash: string, data: Buffer): void {
    if (!this.#asked.has(replicaId)) {
      throw new ForbiddenError('unsolicited snapshot: this replica was not asked for one', { replicaId, seq });
    }
    if (seq !== this.seq) {
      throw new ForbiddenError(`snapshot asked at seq ${this.seq}, not ${seq}`, { replicaId, seq, asked: this.seq });
    }
    // The first answer stands: a replica cannot change its vote.
    if (!this.#reports.has(replicaId)) this.#reports.set(replicaId, { stateHash, data });
  }

  /** The snapshot a quorum of distinct hosts agrees on, or null while there is none. */
  decision(): CheckpointDecision | null {
    const byHash = new Map<string, { hosts: Set<string>; data: Buffer }>();
    for (const [replicaId, r] of this.#reports) {
      const host = this.#asked.get(replicaId);
      if (host === undefined) continue;
      let entry = byHash.get(r.stateHash);
      if (!entry) byHash.set(r.stateHash, (entry = { hosts: new Set(), data: r.data }));
      entry.hosts.add(host);
    }
    for (const [stateHash, e] of byHash) {
      if (e.hosts.size >= this.quorum) return { seq: this.seq, stateHash, data: e.data, hosts: [...e.hosts].sort() };
    }
    return null;
  }
}
