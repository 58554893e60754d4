// The checkpoint relay across a lapsed registry lease, on a real 3-member
// etcd: a home server's relayed answer (report and chunk) lives under its
// registry lease, so when that lease lapses etcd deletes them. The relay
// writes them again under the server's next lease, and the leader confirms
// the checkpoint from them once the other server answers: nothing is lost.
// Without the rewrite pa's answer would be gone and no quorum would form.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ConfirmedSnapshotSchema, CheckpointReportSchema } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { stateHashOf } from '../../render/app-hash.js';
import { checkpointKeys } from '../../server/cluster/checkpoint-keys.js';
import { CheckpointRelay } from '../../server/cluster/checkpoint-relay.js';
import type { CheckpointRelayManager } from '../../server/cluster/cluster-checkpoint-types.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import type { DurableSession } from '../../server/session-core/session-core.js';
import type { SessionManagerEvents } from '../../server/session-manager.js';
import { checkpointParts } from '../helpers/checkpoint-parts.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';
import { openEntry } from '../helpers/sealed-entries.js';

const NS = 'ckpt-relay-lease/';
const SECRET = ClusterSecret.fromConfig('checkpoint-relay-lease-test-secret-0123456789', false);
const SESSION = 's1';
const tlog = getLogger('checkpoint-relay-lease-test');

/** One server's session side as the relay sees it: the session runs here, its replica answers when told to. */
class AnsweringSessions extends TypedEmitter<SessionManagerEvents> implements CheckpointRelayManager {
  readonly sessions = new Set([SESSION]);
  readonly wanted: Array<{ sessionId: string; seq: number }> = [];
  checkpointWanted(sessionId: string, seq: number): void {
    this.wanted.push({ sessionId, seq });
  }
  adoptClusterSnapshot(): Promise<DurableSession | null> {
    return Promise.resolve(null);
  }
  answer(replicaId: string, hostId: string, seq: number, data: Buffer): void {
    this.emit('checkpointanswer', { sessionId: SESSION, replicaId, hostId, seq, stateHash: stateHashOf(data), data });
  }
}

describe('the checkpoint relay across a lapsed registry lease', () => {
  const etcd = etcdSuite();

  it('rewrites its report and chunks under the new lease, and the leader confirms from them', async () => {
    const admin = etcd.client();
    const parts = await checkpointParts(etcd, NS, SECRET);
    try {
      const sessions = new Map<string, AnsweringSessions>();
      for (const [id, registry] of parts.registries) {
        const manager = new AnsweringSessions();
        sessions.set(id, manager);
        const relay = await CheckpointRelay.create({
          client: etcd.client(),
          namespace: NS,
          registry,
          secret: SECRET,
          manager,
          log: parts.log,
        });
        parts.closers.push(() => relay.close());
      }
      const a = await parts.leaderParts('pa');
      await until(() => a.election.isLeader, 5000, 'pa to lead');
      await parts.placeAndType(a, SESSION);
      await a.checkpoints.runOnce();
      await until(
        () => [...sessions.values()].every((m) => m.wanted.some((w) => w.seq === 6)),
        5000,
        'both servers asked for seq 6',
      );

      // pa's replica answers; the relay stores its bytes and report under pa's lease.
      const data = Buffer.from('the state after six inputs');
      const hash = stateHashOf(data);
      const reportKey = checkpointKeys.report(NS, 'pa', SESSION);
      const chunkKey = checkpointKeys.chunk(NS, SESSION, 6, hash, 0);
      sessions.get('pa')?.answer(`${SESSION}.r1`, 'host-na', 6, data);
      const leaseOf = async (key: string): Promise<string | null> => {
        const kv = (await admin.get(key).exec()).kvs[0];
        return kv ? String(kv.lease) : null;
      };
      await until(async () => (await leaseOf(reportKey)) !== null, 5000, "pa's report in etcd");
      const before = await admin.get(reportKey).string();
      const firstLease = await leaseOf(reportKey);
      assert.ok(firstLease && firstLease !== '0', 'under a lease');
      assert.equal(await leaseOf(chunkKey), firstLease, 'the chunk under the same lease');

      // The lease lapses (revoked behind the registry's back: what etcd does to one whose keepalives were late).
      await admin.leaseClient.leaseRevoke({ ID: firstLease });
      // etcd deletes what was under it at once; the registry notices, takes a new lease, the relay writes again.
      await until(
        async () => {
          const now = await leaseOf(reportKey);
          return now !== null && now !== firstLease && (await leaseOf(chunkKey)) === now;
        },
        15_000,
        "pa's report and chunk written again under a new lease",
      );
      const after = await admin.get(reportKey).string();
      assert.ok(before && after);
      const open = (raw: string) =>
        openEntry(SECRET, 'checkpoint-report', CheckpointReportSchema, tlog, reportKey, raw);
      assert.deepEqual(open(after), open(before), 'the same report');
      assert.deepEqual(open(after)?.answers, [
        { replicaId: `${SESSION}.r1`, stateHash: hash, bytes: data.length, chunks: 1 },
      ]);

      // pb's replica answers the same state: the leader now has a majority of hosts and confirms.
      sessions.get('pb')?.answer(`${SESSION}.r2`, 'host-nb', 6, data);
      const confirmedKey = checkpointKeys.confirmed(NS, SESSION);
      await until(
        async () => {
          await a.checkpoints.runOnce();
          return (await admin.get(confirmedKey).string()) !== null;
        },
        10_000,
        'the checkpoint confirmed',
      );
      const confirmed = openEntry(
        SECRET,
        'confirmed-snapshot',
        ConfirmedSnapshotSchema,
        tlog,
        confirmedKey,
        (await admin.get(confirmedKey).string()) ?? '',
      );
      assert.equal(confirmed?.seq, 6);
      assert.deepEqual(confirmed?.hosts, ['host-na', 'host-nb'], "pa's answer counted after the lapse");
      assert.ok((await parts.log.latestSnapshot(SESSION))?.data.equals(data), 'the bytes relayed are the ones stored');
    } finally {
      await parts.closeAll();
    }
  });
});
