// The leader's cluster checkpoint on a real 3-member etcd, in-process: relayed
// answers from two home servers are confirmed only after the leader checks
// each stored chunk's seal (unsealed, forged, altered or misplaced chunks are
// refused) and re-hashes the bytes (another state is not confirmed), and a leader deposed
// behind its back (its lease revoked, another server leads) confirms nothing:
// its fenced record is refused before it stores a snapshot or truncates.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  CheckpointReportSchema,
  ConfirmedSnapshotSchema,
  type CheckpointReport,
} from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { stateHashOf } from '../../render/app-hash.js';
import { sealChunk } from '../../server/cluster/checkpoint-chunks.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openEntry, sealEntry } from '../helpers/sealed-entries.js';
import { checkpointParts } from '../helpers/checkpoint-parts.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';

const NS = 'ckpt-fence/';
const SECRET = ClusterSecret.fromConfig('checkpoint-fencing-test-secret-0123456789', false);
const FORGER = ClusterSecret.fromConfig('not-the-cluster-secret-but-long-enough-0123', false);
const SESSION = 's1';

describe('the cluster checkpoint is fenced and re-hashed by the leader', () => {
  const etcd = etcdSuite();

  it("tampered bytes are not confirmed; a deposed leader's confirmation is refused; the new leader's goes through", async () => {
    const admin = etcd.client();
    const { log, registries, leaderParts, placeAndType, closeAll } = await checkpointParts(etcd, NS, SECRET);
    try {
      const a = await leaderParts('pa');
      await until(() => a.election.isLeader, 5000, 'pa to lead');
      await placeAndType(a, SESSION);

      // The leader asks at the head.
      await a.checkpoints.runOnce();
      const requestKey = `${NS}cluster/checkpoint/${SESSION}`;
      assert.ok((await admin.get(requestKey).string()) !== null, 'a checkpoint request');

      // Both home servers relay an answer at seq 6, as CheckpointRelay writes it.
      const data = Buffer.from('the state after six inputs');
      const hash = stateHashOf(data);
      const chunkKey = `${NS}cluster/ckpt-data/${SESSION}/6/${hash}/0`;
      for (const [serverId, replicaId] of [
        ['pa', 's1.r1'],
        ['pb', 's1.r2'],
      ] as const) {
        const key = `${NS}cluster/ckpt-report/${serverId}/${SESSION}`;
        const report: CheckpointReport = {
          serverId,
          sessionId: SESSION,
          seq: 6,
          answers: [{ replicaId, stateHash: hash, bytes: data.length, chunks: 1 }],
        };
        await registries
          .get(serverId)
          ?.putUnderLease(key, sealEntry(SECRET, 'checkpoint-report', key, CheckpointReportSchema, report));
      }
      const confirmedKey = `${NS}cluster/confirmed/${SESSION}`;
      const place = { sessionId: SESSION, seq: 6, stateHash: hash, index: 0, total: 1, bytes: data.length };
      await new Promise((r) => setTimeout(r, 300)); // the leader's followers see the reports
      const refused = async (value: string, what: string): Promise<void> => {
        await admin.put(chunkKey).value(value);
        await a.checkpoints.runOnce();
        assert.equal(await admin.get(confirmedKey).string(), null, `${what}: not confirmed`);
        assert.equal(await log.latestSnapshot(SESSION), null, `${what}: nothing stored`);
      };
      // Sealed, but bytes that do not hash to what the quorum claims.
      const other = Buffer.from('something else');
      await refused(sealChunk(SECRET, { ...place, bytes: other.length }, other), 'bytes of another state');
      // The right bytes planted unsealed (etcd write access, no secret), or sealed under another secret.
      await refused(data.toString('base64'), 'an unsealed chunk');
      await refused(sealChunk(FORGER, place, data), 'a chunk sealed under another secret');
      // Sealed with the secret, then altered in etcd: a byte changed under the same MAC.
      const sealed = JSON.parse(sealChunk(SECRET, place, data)) as { data: string; mac: string };
      const altered = Buffer.from(data);
      altered[0] = (altered[0] ?? 0) ^ 1;
      await refused(JSON.stringify({ ...sealed, data: altered.toString('base64') }), 'an altered chunk');
      // A genuine chunk sealed for another place (another seq, index or count) copied here.
      await refused(sealChunk(SECRET, { ...place, seq: 5 }, data), 'a chunk sealed for another seq');
      await refused(sealChunk(SECRET, { ...place, total: 2 }, data), 'a chunk sealed as one of two');
      // What CheckpointRelay writes: sealed for exactly this place.
      await admin.put(chunkKey).value(sealChunk(SECRET, place, data));

      // pa is deposed behind its back: its lease revoked, pb takes the term.
      const kv = (await admin.get(a.election.leaderKey).exec()).kvs[0];
      assert.ok(kv);
      await admin.leaseClient.leaseRevoke({ ID: kv.lease });
      const b = await leaderParts('pb');
      await until(() => b.election.isLeader, 5000, 'pb to lead');
      await a.checkpoints.runOnce();
      assert.equal(await admin.get(confirmedKey).string(), null, "the deposed leader's confirmation refused");
      assert.equal(await log.latestSnapshot(SESSION), null, 'and it stored nothing');
      assert.equal(a.election.isLeader, false, 'it stepped down');

      // The new leader asks afresh and confirms from the same relayed answers.
      await b.checkpoints.runOnce();
      await b.checkpoints.runOnce();
      const raw = await admin.get(confirmedKey).string();
      assert.ok(raw, 'confirmed by the new leader');
      const confirmed = openEntry(
        SECRET,
        'confirmed-snapshot',
        ConfirmedSnapshotSchema,
        getLogger('test'),
        confirmedKey,
        raw,
      );
      assert.ok(confirmed);
      assert.equal(confirmed.seq, 6);
      assert.deepEqual(confirmed.hosts, ['host-na', 'host-nb']);
      const term = b.election.verdict();
      assert.ok(term.leader);
      assert.equal(confirmed.term, term.revision, "written under the new leader's term");
      const stored = await log.latestSnapshot(SESSION);
      assert.ok(stored?.data.equals(data), 'the bytes stored are the re-hashed ones');
      assert.equal(await admin.get(requestKey).string(), null, 'the request is done');
      assert.equal(await admin.get(chunkKey).string(), null, 'relayed bytes deleted');
    } finally {
      await closeAll();
    }
  });
});
