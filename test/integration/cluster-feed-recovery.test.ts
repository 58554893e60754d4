// A server whose input feed fell behind a truncation catches up (real 3-member
// etcd, three server processes, three real renderer nodes, one replica homed
// on each server). Server B talks to one etcd member only; while that member
// is down, A and A2 (on the other two, a quorum) take typing, the leader
// confirms snapshots from their two hosts and truncates the log behind them.
// When the member is back, B's feed finds its next input gone: it resumes from
// the latest confirmed cluster snapshot, B's replica restores that snapshot
// and replays the tail, and it agrees with A's replica at the head; nothing
// typed is lost and B's /healthz counts no stalled feed. Then a corrupt entry:
// never applied, and /healthz and /metrics say the session's feed is stalled.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { WriterState } from '../../render/apps/writer/index.js';
import { HealthReportSchema } from '../../protocol/rest.js';
import type { SessionInfo } from '../../protocol/session.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { startNode, startServer, stopAll } from '../helpers/processes.js';
import { referenceState } from '../helpers/reference-render.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { liveWriterSession } from '../helpers/writer-session.js';

const SECRET = 'cluster-feed-recovery-test-secret-0123456789';

const liveAtHead = (s: SessionInfo, hostId: string) =>
  s.replicas.find((r) => r.hostId === hostId && r.state === 'live' && r.appliedSeq === s.headSeq);

describe('an input feed that fell behind a truncation recovers', () => {
  const etcd = etcdSuite(stopAll);
  after(stopAll);

  it("B's replica catches up through the latest snapshot and agrees with A's", async () => {
    const urls = etcd.cluster().clientUrls;
    const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
    const common = {
      LOCKSTEP_CLUSTER_SECRET: SECRET,
      LOCKSTEP_SNAPSHOT_EVERY: '10',
      // Old revisions are compacted away: B's watch cannot replay what it missed, only a range read can.
      LOCKSTEP_UPKEEP_EVERY_MS: '1000',
      LOCKSTEP_UPKEEP_KEEP_REVISIONS: '1',
    };
    const a = await startServer({
      dataDir: makeTmpDir(hooks),
      env: { ...common, LOCKSTEP_STORE: `etcd:${urls[0]},${urls[1]}`, LOCKSTEP_SERVER_ID: 'ra' },
    });
    const a2 = await startServer({
      dataDir: makeTmpDir(hooks),
      env: { ...common, LOCKSTEP_STORE: `etcd:${urls[0]},${urls[1]}`, LOCKSTEP_SERVER_ID: 'ra2' },
    });
    const b = await startServer({
      dataDir: makeTmpDir(hooks),
      // The cluster's owner token (the launcher keys its secrets by the store spec, which differs here).
      env: {
        ...common,
        LOCKSTEP_STORE: `etcd:${urls[2]}`,
        LOCKSTEP_SERVER_ID: 'rb',
        LOCKSTEP_OWNER_TOKEN: a.ownerToken,
      },
    });
    // One host per server: while B is cut off, the hosts on A and A2 are the quorum that confirms snapshots.
    await startNode({ url: a.url, hostId: 'host-ra1', env: { LOCKSTEP_JOIN_TOKEN: await a.hostToken('host-ra1') } });
    await startNode({ url: a2.url, hostId: 'host-ra2', env: { LOCKSTEP_JOIN_TOKEN: await a.hostToken('host-ra2') } });
    await startNode({ url: b.url, hostId: 'host-rb', env: { LOCKSTEP_JOIN_TOKEN: await a.hostToken('host-rb') } });
    const viewer = await TestViewer.connect(a.url);
    const { sessionId } = await liveWriterSession(viewer, a.url, {
      r: 3,
      width: 320,
      height: 240,
      what: "A's replica live",
      live: (s) => s.replicas.some((r) => r.state === 'live'),
      timeoutMs: 60_000,
    });
    await viewer.type(sessionId, 'ab');
    await waitFor(
      'B applied the first inputs',
      async () => liveAtHead(await getSession(b.url, sessionId), 'host-rb'),
      60_000,
    );
    await waitFor(
      'A2 applied the first inputs',
      async () => liveAtHead(await getSession(a2.url, sessionId), 'host-ra2'),
      60_000,
    );
    const bBefore = await getSession(b.url, sessionId);

    // B's only etcd member goes down; A carries on with the other two.
    await etcd.cluster().kill(2);
    // 48 inputs (a key is one input: the writer reads no key-ups), so snapshots are confirmed well past B's head.
    const typed = 'cdefghijklmnopqrstuvwxyz'.repeat(2);
    for (const ch of typed) {
      await viewer.type(sessionId, ch);
      await new Promise((r) => setTimeout(r, 100));
    }
    const inputKey = (seq: number) =>
      `lockstep/log/${encodeURIComponent(sessionId)}/in/${String(seq).padStart(16, '0')}`;
    const client = etcd.client();
    // A snapshot behind a newer one was confirmed: the log is truncated past B's next input.
    await waitFor(
      'the log truncated past what B fanned out',
      async () => (await client.get(inputKey(bBefore.headSeq + 1)).string()) === null,
      60_000,
      250,
    );
    const aHead = (await getSession(a.url, sessionId)).headSeq;
    assert.ok(aHead > bBefore.headSeq + 20, `A sequenced on (head ${aHead})`);

    await etcd.cluster().restart(2);
    const onB = await waitFor(
      "B's replica at A's head",
      async () => {
        const s = await getSession(b.url, sessionId);
        return s.headSeq >= aHead && liveAtHead(s, 'host-rb') ? s : undefined;
      },
      60_000,
      250,
    );
    const onA = await waitFor('A at the same head', async () => {
      const s = await getSession(a.url, sessionId);
      return s.headSeq === onB.headSeq && liveAtHead(s, 'host-ra1') ? s : undefined;
    });
    assert.equal(
      liveAtHead(onB, 'host-rb')?.stateHash,
      liveAtHead(onA, 'host-ra1')?.stateHash,
      "B's replica agrees with A's at the head",
    );
    const state = (await referenceState(a.url, 'writer', 320, 240, sessionId)) as WriterState;
    assert.equal(state.text, `ab${typed}`, 'nothing typed is lost');
    const health = HealthReportSchema.parse(await (await fetch(`${b.url}/healthz`)).json());
    assert.equal(health.stalledFeeds, undefined, 'no feed is stalled on B');

    // A corrupt entry past the head (a party with etcd access, without the schema): never applied, nor
    // skipped; the feed stalls there and says so.
    await client.put(inputKey(onB.headSeq + 1)).value('{"event":{"type":"rm -rf"}}');
    const stalled = await waitFor("B's /healthz counting the stalled feed", async () => {
      const h = HealthReportSchema.parse(await (await fetch(`${b.url}/healthz`)).json());
      return h.stalledFeeds?.corrupt === 1 ? h : undefined;
    });
    assert.equal(stalled.ok, true, 'B still takes inputs');
    assert.equal(stalled.stalledFeeds?.recovering, 0, 'a corrupt input is not recovered from');
    const metrics = await (
      await fetch(`${b.url}/metrics`, { headers: { authorization: `Bearer ${a.ownerToken}` } })
    ).text();
    const line = metrics.split('\n').find((l) => l.startsWith('lockstep_input_feed_stalled{'));
    assert.ok(
      line?.includes(`session="${sessionId}"`) && line.includes('reason="corrupt"') && line.endsWith(' 1'),
      line,
    );
    assert.equal((await getSession(b.url, sessionId)).headSeq, onB.headSeq, 'the corrupt entry is not applied');
    viewer.close();
  });
});
