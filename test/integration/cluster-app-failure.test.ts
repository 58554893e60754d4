// The app-failure quorum across the cluster (real 3-member etcd, three
// servers, published hostile app on real nodes). A lying node (it claims the
// app failed at input 2; it did not) only gets its replica re-placed: its host
// alone is one vote. Then the app really throws at input 3 on the replicas of
// three hosts homed on three servers: each home server relays its own
// replica's failure, the leader counts the hosts from its own table and
// directory, writes the failed state into the placement entry (fenced), and
// every server enforces it: the session reports it (the viewer's banner) and
// later inputs get a typed refusal on any server, nothing logged.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, describe, it } from 'node:test';
import { packAppFolder } from '../../render/bundle/pack-folder.js';
import { publishBundle } from '../../render/bundle/publish-client.js';
import { startBundleNode } from '../helpers/bundle-node.js';
import { startClusterServers } from '../helpers/cluster-servers.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { placementReader } from '../helpers/placement-reader.js';
import { removeDir, stopAll, type Proc } from '../helpers/processes.js';
import { getSession, RequestFailed, TestViewer, waitFor } from '../helpers/viewer-client.js';

const HOSTILE = fileURLToPath(new URL('../fixtures/apps/hostile/', import.meta.url));
const SECRET = 'cluster-app-failure-test-secret-0123456789';
const LIE_AT = 2;

describe('the app-failure quorum is counted across the cluster', () => {
  const cacheDirs: string[] = [];
  const etcd = etcdSuite(stopAll);
  after(async () => {
    await stopAll();
    for (const dir of cacheDirs) removeDir(dir);
  });

  it('a lying host alone only loses its replica; three hosts on three servers failing at one seq fail it everywhere', async () => {
    const env = {
      LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`,
      LOCKSTEP_CLUSTER_SECRET: SECRET,
      LOCKSTEP_REHOME_HOLD_MS: '3000',
    };
    const { servers, server } = await startClusterServers(['pa', 'pb', 'pc'], env);
    const owner = server('pa').ownerToken;
    // Bundles are each server's own store: published to every one (nodes fetch from their home).
    const packed = packAppFolder(HOSTILE);
    for (const s of servers.values()) {
      await publishBundle(s.url, owner, { name: 'hostile', version: '0.0.1', hash: packed.hash, bytes: packed.bytes });
    }
    const nodes = new Map<string, Proc>();
    const start = async (hostId: string, home: string, extra: Record<string, string> = {}): Promise<void> => {
      const nodeEnv = { LOCKSTEP_JOIN_TOKEN: await server('pa').hostToken(hostId), ...extra };
      nodes.set(
        hostId,
        await startBundleNode({ url: server(home).url, hostId, apps: 'published', cacheDirs, env: nodeEnv }),
      );
    };
    await start('ha', 'pa');
    await start('hb', 'pb');
    await start('h-liar', 'pc', { LOCKSTEP_FAULT_FAIL_AT_SEQ: String(LIE_AT) });

    const tableOf = placementReader(etcd.client(), SECRET);
    const everywhere = async (sessionId: string) =>
      Promise.all([...servers.values()].map((s) => getSession(s.url, sessionId)));
    const liveHosts = async (sessionId: string): Promise<string[]> =>
      (await everywhere(sessionId)).flatMap((s) => s.replicas.filter((r) => r.state === 'live').map((r) => r.hostId));

    const viewers: TestViewer[] = [];
    after(() => viewers.forEach((v) => v.close()));
    const creator = await TestViewer.connect(server('pa').url);
    viewers.push(creator);
    const { session } = await creator.request({
      type: 'sessions.create',
      app: packed.hash,
      replicationFactor: 3,
      width: 320,
      height: 240,
    });
    const sessionId = session.sessionId;
    await waitFor(
      'three replicas live, the liar among them',
      async () => {
        const hosts = await liveHosts(sessionId).catch((): string[] => []);
        return hosts.length === 3 && hosts.includes('h-liar') ? hosts : undefined;
      },
      60_000,
    );
    // The spare the liar's replica moves to: on pc too, so all three final replicas are on three servers.
    await start('hc', 'pc');

    const typists = await Promise.all(
      ['pa', 'pb', 'pc'].map(async (id) => {
        const v = await TestViewer.connect(server(id).url);
        viewers.push(v);
        await v.request({ type: 'session.join', sessionId, clientId: `typist-${id}` });
        return v;
      }),
    );
    const paste = async (via: number, text: string) => {
      const v = typists[via];
      assert.ok(v);
      return v.request({ type: 'input', sessionId, clientSeq: v.clientSeq++, event: { type: 'paste', text } });
    };
    await paste(0, 'probe');
    await paste(1, 'probe');

    // The liar claims the app failed at input 2: one host's word re-places its replica, nothing more.
    // (On a loaded machine a replica may also be re-placed as unresponsive first: what counts is the liar's vote.)
    const lied = await waitFor(
      "the liar's claim counted, its replica re-placed on the spare, three live again",
      async () => {
        const [table, hosts] = await Promise.all([tableOf(sessionId), liveHosts(sessionId).catch((): string[] => [])]);
        if (!table?.appFailureVotes?.some((v) => v.hostId === 'h-liar')) return undefined;
        if (hosts.length !== 3 || hosts.includes('h-liar') || !hosts.includes('hc')) return undefined;
        return table;
      },
      90_000,
    );
    assert.equal(lied.appFailure, undefined, 'one host cannot fail the session');
    assert.deepEqual(
      lied.appFailureVotes?.map((v) => [v.hostId, v.seq]),
      [['h-liar', LIE_AT]],
      "the liar's claim is one counted vote, under the host the leader knows its node by",
    );
    for (const s of await everywhere(sessionId)) assert.equal(s.appFailure, undefined);
    assert.deepEqual(lied.replicas.map((r) => r.homeServerId).sort(), ['pa', 'pb', 'pc']);

    // Now the app really throws at input 3, on every host.
    const ack = await paste(2, 'throw');
    assert.equal(ack.seq, 3);
    const failed = await waitFor(
      'the failed state written by the leader and shown by every server',
      async () => {
        const [table, infos] = await Promise.all([tableOf(sessionId), everywhere(sessionId).catch(() => [])]);
        if (!table?.appFailure || infos.length !== 3 || !infos.every((s) => s.appFailure)) return undefined;
        return { table, infos };
      },
      60_000,
    );
    assert.equal(failed.table.appFailure?.seq, 3);
    assert.equal(failed.table.appFailure?.reason, 'app-threw');
    assert.match(failed.table.appFailure?.message ?? '', /hostile app threw on purpose/);
    const at3 = new Set((failed.table.appFailureVotes ?? []).filter((v) => v.seq === 3).map((v) => v.hostId));
    assert.ok(at3.size >= 2, `a quorum of distinct hosts at seq 3 (${[...at3].join(',')})`);
    for (const s of failed.infos) assert.deepEqual(s.appFailure, failed.table.appFailure, 'the same state everywhere');

    // Every server refuses later inputs with the typed error, and nothing more is logged.
    for (const [i] of typists.entries()) {
      await assert.rejects(
        paste(i, 'x'),
        (err: unknown) =>
          err instanceof RequestFailed && err.code === 'conflict' && /app failed at input 3/.test(err.message),
      );
    }
    for (const s of await everywhere(sessionId)) assert.equal(s.headSeq, 3, 'nothing logged after the failure');
    await new Promise((r) => setTimeout(r, 3000));
    const later = await tableOf(sessionId);
    assert.ok((later?.replicas.length ?? 0) <= 3);
    assert.ok(
      (later?.replicas ?? []).every((r) => failed.table.replicas.some((x) => x.replicaId === r.replicaId)),
      'no replica placed after the failure',
    );
  });
});
