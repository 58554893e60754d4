// Replica tickets: a node can claim back only a replica a server placed on its
// own admission (server/replica-tickets.ts).
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { ReplicaTicketSchema } from '../../protocol/signalling.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openDatabase } from '../../server/database.js';
import { ReplicaTickets, type TicketFacts } from '../../server/replica-tickets.js';

const FACTS: TicketFacts = { sessionId: 's-1', replicaId: 's-1.r2', admissionId: 'host-a', appHash: 'ab'.repeat(32) };

it('a ticket holds for exactly the facts it was issued for', () => {
  const tickets = new ReplicaTickets(ClusterSecret.fromConfig('x'.repeat(40), false));
  const ticket = tickets.issue(FACTS);
  assert.ok(ReplicaTicketSchema.safeParse(ticket).success, 'the wire schema accepts what the server issues');
  assert.equal(tickets.valid(FACTS, ticket), true);
  // Another admission (another host's token), replica, session or app version: refused.
  for (const other of [
    { ...FACTS, admissionId: 'host-b' },
    { ...FACTS, replicaId: 's-1.r3' },
    { ...FACTS, sessionId: 's-2', replicaId: 's-2.r2' },
    { ...FACTS, appHash: 'cd'.repeat(32) },
  ]) {
    assert.equal(tickets.valid(other, ticket), false, JSON.stringify(other));
  }
  // Fields cannot be shifted into one another.
  assert.equal(tickets.valid({ ...FACTS, sessionId: 's-1|', replicaId: 's-1.r2' }, ticket), false);
  assert.equal(tickets.valid(FACTS, `${ticket.slice(0, -1)}${ticket.endsWith('A') ? 'B' : 'A'}`), false);
  assert.equal(tickets.valid(FACTS, ''), false);
});

it("another cluster's secret does not accept the ticket; every server of one cluster does", () => {
  const issued = new ReplicaTickets(ClusterSecret.fromConfig('x'.repeat(40), false)).issue(FACTS);
  assert.equal(new ReplicaTickets(ClusterSecret.fromConfig('x'.repeat(40), false)).valid(FACTS, issued), true);
  assert.equal(new ReplicaTickets(ClusterSecret.fromConfig('y'.repeat(40), false)).valid(FACTS, issued), false);
});

it("a single server's own key survives its restart and differs from another server's", (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-tickets-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const path = join(dir, 'lockstep.sqlite');
  let db = openDatabase(path);
  const issued = ReplicaTickets.local(db).issue(FACTS);
  db.close();
  db = openDatabase(path);
  assert.equal(ReplicaTickets.local(db).valid(FACTS, issued), true, 'the restarted server accepts its own tickets');
  db.close();
  const other = openDatabase(join(dir, 'other.sqlite'));
  assert.equal(ReplicaTickets.local(other).valid(FACTS, issued), false);
  other.close();
});
