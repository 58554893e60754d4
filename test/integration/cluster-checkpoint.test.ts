// Snapshot checkpoints across the cluster (real 3-member etcd, three servers,
// one replica per home server): the leader's checkpoint is confirmed by the
// replicas on a majority of hosts across servers, never by the forging node's
// host, and the log is truncated behind the previous confirmed snapshot. A
// replica placed after that (its node SIGKILLed, a spare on the same server
// takes over) can only start from the confirmed snapshot (the log before it is
// gone) and agrees with the others.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfirmedSnapshotSchema, type ConfirmedSnapshot } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import { getApp } from '../../render/apps/index.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openEntry } from '../helpers/sealed-entries.js';
import { startClusterServers } from '../helpers/cluster-servers.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { placementReader } from '../helpers/placement-reader.js';
import { keyDown } from '../helpers/key-input.js';
import { startNode, stopAll, type Proc } from '../helpers/processes.js';
import { fetchSnapshot, referenceState } from '../helpers/reference-render.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const SECRET = 'cluster-checkpoint-test-secret-0123456789';
const W = 480;
const H = 320;
const EVERY = 10;
const writer = getApp('writer');

describe('snapshot checkpoints across the cluster', () => {
  const etcd = etcdSuite(stopAll);
  after(stopAll);

  it('confirmed by a majority of hosts across servers (not the forger), log truncated, a new replica restores and agrees', async () => {
    const env = {
      LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`,
      LOCKSTEP_CLUSTER_SECRET: SECRET,
      LOCKSTEP_REHOME_HOLD_MS: '3000',
      LOCKSTEP_SNAPSHOT_EVERY: String(EVERY),
    };
    const { servers, server } = await startClusterServers(['pa', 'pb', 'pc'], env);
    const nodes = new Map<string, Proc>();
    const homes: Array<[string, string, Record<string, string>]> = [
      ['ha', 'pa', {}],
      ['hb', 'pb', {}],
      ['hb2', 'pb', {}],
      // Honest state and status, forged snapshot answers (render/config.ts faultForgeSnapshots).
      ['host-evil', 'pc', { LOCKSTEP_FAULT_FORGE_SNAPSHOTS: '1' }],
    ];
    for (const [hostId, home, extra] of homes) {
      const nodeEnv = { LOCKSTEP_JOIN_TOKEN: await server('pa').hostToken(hostId), ...extra };
      nodes.set(hostId, await startNode({ url: server(home).url, hostId, env: nodeEnv }));
    }

    const secret = ClusterSecret.fromConfig(SECRET, false);
    const tlog = getLogger('cluster-checkpoint-test');
    const client = etcd.client();
    const confirmedOf = async (sessionId: string): Promise<ConfirmedSnapshot | null> => {
      const key = `lockstep/cluster/confirmed/${encodeURIComponent(sessionId)}`;
      const raw = await client.get(key).string();
      return raw === null ? null : openEntry(secret, 'confirmed-snapshot', ConfirmedSnapshotSchema, tlog, key, raw);
    };
    const placementOf = placementReader(client, SECRET);
    /** Seqs of the inputs still in the shared log. */
    const loggedSeqs = async (sessionId: string): Promise<number[]> => {
      const keys = await client
        .getAll()
        .prefix(`lockstep/log/${encodeURIComponent(sessionId)}/in/`)
        .keys();
      return keys.map((k) => Number(k.slice(k.lastIndexOf('/') + 1))).sort((a, b) => a - b);
    };
    /** Every server's live replicas at the head, if there are three with one hash. */
    const settled = async (sessionId: string, headSeq: number) => {
      const all = [];
      for (const s of servers.values()) all.push(...(await getSession(s.url, sessionId)).replicas);
      const live = all.filter((r) => r.state === 'live' && r.appliedSeq === headSeq);
      if (live.length !== 3 || new Set(live.map((r) => r.stateHash)).size !== 1) return undefined;
      return live;
    };

    const viewers: TestViewer[] = [];
    after(() => viewers.forEach((v) => v.close()));
    const creator = await TestViewer.connect(server('pa').url);
    viewers.push(creator);
    const { session } = await creator.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 3,
      width: W,
      height: H,
    });
    const sessionId = session.sessionId;
    await waitFor('three replicas live', () => settled(sessionId, 0).catch(() => undefined), 60_000);

    let typed = '';
    const typists = await Promise.all(
      ['pa', 'pb', 'pc'].map(async (id) => {
        const v = await TestViewer.connect(server(id).url);
        viewers.push(v);
        await v.request({ type: 'session.join', sessionId, clientId: `typist-${id}` });
        return v;
      }),
    );
    const type = async (text: string): Promise<void> => {
      for (const ch of text) {
        const v = typists[typed.length % typists.length];
        assert.ok(v);
        await v.request({ type: 'input', sessionId, clientSeq: v.clientSeq++, event: keyDown(ch) });
        typed += ch;
      }
    };

    await type('the first part, ');
    const first = await waitFor(
      'a first confirmed snapshot',
      () => confirmedOf(sessionId).then((c) => c ?? undefined),
      40_000,
    );
    assert.ok(first.seq >= EVERY, `confirmed at ${first.seq}`);
    assert.equal(first.hosts.length, 2, 'two agreeing hosts');
    assert.ok(!first.hosts.includes('host-evil'), `the forger's host did not confirm it (${first.hosts.join(',')})`);
    await type('then a second part, past the interval.');
    const second = await waitFor(
      'a second confirmed snapshot',
      () => confirmedOf(sessionId).then((c) => (c && c.seq > first.seq ? c : undefined)),
      40_000,
    );
    // On a loaded machine typing is slow and a checkpoint may be confirmed in between: the previous is one of them.
    const previous = second.previousSeq ?? 0;
    assert.ok(previous >= first.seq && previous < second.seq, `previous ${previous}, first ${first.seq}`);
    assert.ok(!second.hosts.includes('host-evil'));
    const seqs = await waitFor(
      'the log truncated through the previous snapshot',
      async () => {
        const s = await loggedSeqs(sessionId);
        return s.length > 0 && (s[0] ?? 0) > previous ? s : undefined;
      },
      10_000,
    );
    assert.equal(seqs[0], previous + 1, 'exactly the inputs behind the previous snapshot went');

    // The stored snapshot is the owner's text at its seq, not the forgery.
    const snap = await fetchSnapshot(server('pb').url, sessionId);
    assert.ok(snap);
    assert.equal(snap.seq, second.seq);
    assert.equal(snap.stateHash, second.stateHash);
    const stored = (writer.restore(Buffer.from(snap.data, 'base64')) as WriterState).text;
    assert.equal(stored, typed.slice(0, snap.seq));

    // A replica placed now cannot replay the log from 1: it starts from the confirmed snapshot.
    const table = await placementOf(sessionId);
    const onB = table?.replicas.find((r) => r.homeServerId === 'pb');
    assert.ok(onB);
    await nodes.get(onB.nodeId)?.kill('SIGKILL');
    nodes.delete(onB.nodeId);
    const spare = onB.nodeId === 'hb' ? 'hb2' : 'hb';
    const live = await waitFor(
      'a fresh replica on the spare, live with the others',
      async () => {
        const l = await settled(sessionId, typed.length).catch(() => undefined);
        return l?.some((r) => r.hostId === spare) ? l : undefined;
      },
      60_000,
    );
    assert.equal(new Set(live.map((r) => r.stateHash)).size, 1, 'equal hashes');
    const state = (await referenceState(server('pc').url, 'writer', W, H, sessionId)) as WriterState;
    assert.equal(state.text, typed, 'every acknowledged keystroke');
  });
});
