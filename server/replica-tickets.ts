// Replica tickets: when the server places a replica on a node it hands the node
// a MAC over (session, replica, admission, app hash). A node that kept the
// replica running through a server death presents the ticket when it
// registers again; only a replica with a valid ticket for that node's own
// admission is considered for adoption (server/replica-adoption.ts). So a
// host can claim back only what a server placed on it, never a guessed
// replica id of a session short of replicas. In cluster mode the key is the
// cluster secret (any server verifies what another issued); in the
// single-server default it is a random key kept in the server's database, so
// tickets survive a restart of this server.
import { randomBytes } from 'node:crypto';
import { ClusterSecret } from './cluster/cluster-secret.js';
import type { SqliteDatabase } from './database.js';

const PURPOSE = 'replica-ticket';
const LOCAL_KEY_NAME = 'replica-tickets';

/** What a ticket binds: the replica is this session's, placed on this admission, running this app version. */
export interface TicketFacts {
  sessionId: string;
  replicaId: string;
  admissionId: string;
  appHash: string;
}

export class ReplicaTickets {
  readonly #secret: ClusterSecret;

  constructor(secret: ClusterSecret) {
    this.#secret = secret;
  }

  /** Tickets under this server's own key in its database (created on first use). */
  static local(db: SqliteDatabase, now: number = Date.now()): ReplicaTickets {
    db.prepare('INSERT OR IGNORE INTO server_keys (name, key, created_at) VALUES (?, ?, ?)').run(
      LOCAL_KEY_NAME,
      randomBytes(32),
      now,
    );
    const row = db.prepare('SELECT key FROM server_keys WHERE name = ?').get(LOCAL_KEY_NAME) as { key: Buffer };
    return new ReplicaTickets(ClusterSecret.local(row.key));
  }

  issue(facts: TicketFacts): string {
    return this.#secret.sign(PURPOSE, payload(facts));
  }

  valid(facts: TicketFacts, ticket: string): boolean {
    return this.#secret.verify(PURPOSE, payload(facts), ticket);
  }
}

/** Unambiguous: every field is length-prefixed, so no two fact sets share a payload. */
function payload(f: TicketFacts): string {
  return [f.sessionId, f.replicaId, f.admissionId, f.appHash].map((v) => `${v.length}:${v}`).join('|');
}
