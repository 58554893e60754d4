// The leader's upkeep in a running cluster (a real 3-member etcd, three
// servers, three writer nodes, R = 3), on the schedule the servers' own
// configuration gives it, nobody calling it: relayed checkpoint bytes a
// confirmed snapshot superseded (a late answer's) are deleted, the revision
// history is compacted behind the window, and once the session is closed every
// key of it goes (log, snapshots, checkpoint request, record, relayed bytes,
// every server's relayed report, health, placement) but its closed session
// record. If the upkeep stops running on the leader, or stops covering what
// the checkpoint writes, etcd grows without bound: this is what catches it.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { ConfirmedSnapshotSchema, type ConfirmedSnapshot } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openEntry } from '../helpers/sealed-entries.js';
import { startClusterServers } from '../helpers/cluster-servers.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { keyDown } from '../helpers/key-input.js';
import { startNode, stopAll } from '../helpers/processes.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const SECRET = 'cluster-upkeep-running-test-secret-0123456789';
const EVERY_MS = 1500;
const KEEP_REVISIONS = 100;

describe('the upkeep of a running cluster', () => {
  const etcd = etcdSuite(stopAll);
  after(stopAll);

  it('runs on its schedule on the leader: superseded chunks deleted, history compacted, a closed session purged', async () => {
    const env = {
      LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`,
      LOCKSTEP_CLUSTER_SECRET: SECRET,
      LOCKSTEP_SNAPSHOT_EVERY: '10',
      LOCKSTEP_UPKEEP_EVERY_MS: String(EVERY_MS),
      LOCKSTEP_UPKEEP_DEFRAG_EVERY: '2',
      LOCKSTEP_UPKEEP_KEEP_REVISIONS: String(KEEP_REVISIONS),
    };
    const { servers, server } = await startClusterServers(['ua', 'ub', 'uc'], env);
    for (const [hostId, home] of [
      ['ha', 'ua'],
      ['hb', 'ub'],
      ['hc', 'uc'],
    ] as const) {
      const nodeEnv = { LOCKSTEP_JOIN_TOKEN: await server('ua').hostToken(hostId) };
      await startNode({ url: server(home).url, hostId, env: nodeEnv });
    }
    const client = etcd.client();
    const secret = ClusterSecret.fromConfig(SECRET, false);
    const tlog = getLogger('cluster-upkeep-running-test');

    const viewer = await TestViewer.connect(server('ua').url);
    after(() => viewer.close());
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 3,
      width: 320,
      height: 240,
    });
    const sessionId = session.sessionId;
    const enc = encodeURIComponent(sessionId);
    await waitFor(
      'three replicas live',
      async () => {
        let live = 0;
        for (const s of servers.values())
          live += (await getSession(s.url, sessionId)).replicas.filter((r) => r.state === 'live').length;
        return live >= 3;
      },
      60_000,
    );
    await viewer.request({ type: 'session.join', sessionId, clientId: 'typist' });
    const text = 'typed past one checkpoint';
    for (const ch of text) {
      await viewer.request({ type: 'input', sessionId, clientSeq: viewer.clientSeq++, event: keyDown(ch) });
    }
    const confirmedKey = `lockstep/cluster/confirmed/${enc}`;
    const confirmedNow = async (): Promise<ConfirmedSnapshot | null> => {
      const raw = await client.get(confirmedKey).string();
      return raw === null
        ? null
        : openEntry(secret, 'confirmed-snapshot', ConfirmedSnapshotSchema, tlog, confirmedKey, raw);
    };
    const confirmed = await waitFor(
      'a confirmed checkpoint',
      async () => {
        const c = await confirmedNow();
        // The last one the typing asks for: none follows while nobody types.
        return c && c.seq > text.length - 10 ? c : undefined;
      },
      40_000,
    );

    // A late answer to the confirmed checkpoint (what a relay writes after the leader decided), and one
    // of an older seq: nothing reads them again. Nobody types on, so no new confirmation clears them.
    const dataRoot = `lockstep/cluster/ckpt-data/${enc}/`;
    const late = [
      `${dataRoot}${confirmed.seq}/${'ab'.repeat(32)}/0`,
      `${dataRoot}${confirmed.seq - 5}/${'cd'.repeat(32)}/0`,
    ];
    for (const key of late) await client.put(key).value(Buffer.alloc(64 * 1024, 7).toString('base64'));
    // Revisions for compaction to drop, and one to read back once it has.
    await client.put('upkeep-test/old').value('kept in history until compacted');
    const oldRevision = Number((await client.get('upkeep-test/old').exec()).header.revision);
    for (let i = 0; i < KEEP_REVISIONS + 50; i++) await client.put('upkeep-test/churn').value(String(i));

    await waitFor(
      'the superseded chunks deleted by the upkeep',
      async () => (await client.getAll().prefix(dataRoot).keys()).length === 0,
      10 * EVERY_MS + 10_000,
      250,
    );
    assert.equal((await confirmedNow())?.seq, confirmed.seq, 'the upkeep deleted them, not a new confirmation');
    await waitFor(
      'history behind the window compacted',
      () =>
        client
          .get('upkeep-test/old')
          .revision(oldRevision)
          .string()
          .then(
            () => false,
            (err: unknown) => err instanceof Error && /compacted/i.test(err.message),
          ),
      10 * EVERY_MS + 10_000,
      250,
    );

    // The session's keys while open (every server's relayed reports among them, unless a lease lapsed).
    const ofSession = async (): Promise<string[]> =>
      (await client.getAll().keys()).filter((k) => k.includes(enc) && k !== `lockstep/sess/rec/${enc}`);
    const open = await ofSession();
    assert.ok(open.includes(confirmedKey) && open.some((k) => k.startsWith(`lockstep/log/${enc}/in/`)));

    await viewer.request({ type: 'sessions.close', sessionId });
    const left = await waitFor(
      'every key of the closed session purged',
      async () => ((await ofSession()).length === 0 ? [] : undefined),
      10 * EVERY_MS + 10_000,
      250,
    ).catch(async () => ofSession());
    assert.deepEqual(left, [], 'keys of the closed session left in etcd');
    assert.ok((await client.get(`lockstep/sess/rec/${enc}`).string()) !== null, 'the closed record is kept');
  });
});
