// Recovery with real processes: snapshots and log compaction; a session whose
// every replica died restarts from snapshot + log tail on new nodes; a
// divergent replica is voted out; a node with another app version never
// serves the session; a 10,000-event log is caught up.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { WriterState } from '../../render/apps/writer/index.js';
import { appContentHash } from '../../render/app-catalog.js';
import { removeDir, startNode, startServer, stopAll, type Proc } from '../helpers/processes.js';
import { fetchLog, fetchSnapshot, referenceState } from '../helpers/reference-render.js';
import { seedSession } from '../helpers/seed-session.js';
import { keyDown } from '../helpers/key-input.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import type { SessionInfo } from '../../protocol/session.js';
import { liveWriterSession } from '../helpers/writer-session.js';

const W = 480;
const H = 320;

async function typeText(v: TestViewer, sessionId: string, text: string): Promise<void> {
  // Pipelined like a real viewer: many in flight, one socket keeps their order.
  await Promise.all(
    [...text].map((ch) => v.request({ type: 'input', sessionId, clientSeq: v.clientSeq++, event: keyDown(ch) })),
  );
}

async function setup(opts: {
  env?: Record<string, string>;
  hosts: string[];
  nodeEnv?: Record<string, Record<string, string>>;
  r: number;
  /** When the session counts as live (default: r replicas converged). */
  live?: { what: string; when: (s: SessionInfo) => boolean };
}) {
  const server = await startServer({ env: opts.env ?? {} });
  const nodes = new Map<string, Proc>();
  for (const h of opts.hosts)
    nodes.set(h, await startNode({ url: server.url, hostId: h, env: opts.nodeEnv?.[h] ?? {} }));
  const viewer = await TestViewer.connect(server.url);
  const { sessionId, info } = await liveWriterSession(viewer, server.url, {
    r: opts.r,
    width: W,
    height: H,
    ...(opts.live ? { what: opts.live.what, live: opts.live.when } : {}),
  });
  return { server, nodes, viewer, sessionId, info };
}

describe('recovery', () => {
  const dirs: string[] = [];
  after(async () => {
    await stopAll();
    for (const d of dirs) removeDir(d);
  });

  it('snapshots compact the log; a session whose every replica died restarts from snapshot + tail', async () => {
    const { server, nodes, viewer, sessionId } = await setup({
      env: { LOCKSTEP_SNAPSHOT_EVERY: '60' },
      hosts: ['host-a', 'host-b', 'host-c'],
      r: 3,
    });
    dirs.push(server.dataDir);
    const text1 = 'Compaction keeps the log bounded while nothing acknowledged is ever lost. ';
    const snapshotAfter = (seq: number) =>
      waitFor(`a stored snapshot past seq ${seq}`, async () => {
        const s = await fetchSnapshot(server.url, sessionId);
        return s && s.seq > seq ? s : undefined;
      });
    await typeText(viewer, sessionId, text1);
    const first = await snapshotAfter(59);
    // The log is truncated only behind the previous confirmed snapshot: nothing yet.
    assert.equal((await fetchLog(server.url, sessionId))[0]?.seq, 1, 'the first snapshot truncates nothing');
    await typeText(viewer, sessionId, text1);
    const second = await snapshotAfter(first.seq);
    const tail = await fetchLog(server.url, sessionId);
    assert.equal(tail[0]?.seq, first.seq + 1, `log starts after the previous snapshot (latest ${second.seq})`);
    await typeText(viewer, sessionId, text1);

    // Every replica dies at once; other hosts join; the session comes back whole.
    for (const p of nodes.values()) await p.kill('SIGKILL');
    for (const h of ['host-d', 'host-e', 'host-f']) nodes.set(h, await startNode({ url: server.url, hostId: h }));
    await typeText(viewer, sessionId, 'Back.');
    const s = await waitFor(
      'restored on new hosts',
      async () => {
        const info = await getSession(server.url, sessionId);
        return converged(info, 3) ? info : undefined;
      },
      30_000,
    );
    assert.deepEqual(new Set(s.replicas.map((r) => r.hostId)), new Set(['host-d', 'host-e', 'host-f']));
    const state = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterState;
    assert.equal(state.text, text1.repeat(3) + 'Back.', 'every acknowledged keystroke survived');
    viewer.close();
  });

  it('a divergent replica is voted out, quarantined and replaced', async () => {
    const { server, nodes, viewer, sessionId } = await setup({
      hosts: ['host-a', 'host-b', 'host-faulty'],
      nodeEnv: { 'host-faulty': { LOCKSTEP_FAULT_CORRUPT_AFTER: '5' } },
      r: 3,
    });
    dirs.push(server.dataDir);
    nodes.set('host-d', await startNode({ url: server.url, hostId: 'host-d' }));
    await typeText(viewer, sessionId, 'one two three four five six');
    const s = await waitFor(
      'faulty replica replaced',
      async () => {
        const info = await getSession(server.url, sessionId);
        return converged(info, 3) && !info.replicas.some((r) => r.hostId === 'host-faulty') ? info : undefined;
      },
      30_000,
    );
    assert.deepEqual(new Set(s.replicas.map((r) => r.hostId)), new Set(['host-a', 'host-b', 'host-d']));
    // The quarantined host is not given the session again, even with room to spare.
    await typeText(viewer, sessionId, ' seven');
    await new Promise((r) => setTimeout(r, 1000));
    const later = await getSession(server.url, sessionId);
    assert.ok(!later.replicas.some((r) => r.hostId === 'host-faulty'));
    // The event is in the server's log, with the hashes that disagreed.
    const event = server
      .output()
      .split('\n')
      .find((l) => l.includes('replica diverged'));
    assert.ok(event, 'divergence logged');
    assert.match(event, /"hostId":"host-faulty"/);
    assert.match(event, /"majorityHash":"[0-9a-f]+"/);
    viewer.close();
  });

  it('a node with another app version never serves the session', async () => {
    const { server, viewer, sessionId, info } = await setup({
      hosts: ['host-a', 'host-b', 'host-other-build'],
      nodeEnv: { 'host-other-build': { LOCKSTEP_TEST_APP_SALT: 'v2' } },
      r: 3,
      live: { what: 'two live replicas', when: (s) => s.replicas.filter((r) => r.state === 'live').length === 2 },
    });
    dirs.push(server.dataDir);
    assert.equal(info.app.hash, appContentHash('writer'), 'the session pins the server build’s hash');
    await typeText(viewer, sessionId, 'pinned');
    await new Promise((r) => setTimeout(r, 1000));
    const s = await getSession(server.url, sessionId);
    assert.equal(s.replicas.length, 2, 'R is not met rather than mixing versions');
    assert.ok(!s.replicas.some((r) => r.hostId === 'host-other-build'));
    viewer.close();
  });

  it('a new replica catches up a 10,000-event log', async (t) => {
    const dataDir = makeTmpDir(t);
    // Write the session and its log straight into the database the server will open.
    const words = 'catch up on ten thousand logged events ';
    await seedSession(dataDir, {
      id: 's-catchup',
      width: W,
      height: H,
      events: Array.from({ length: 10_000 }, (_, i) => keyDown(words[i % words.length] ?? ' ')),
    });
    const server = await startServer({ dataDir });
    const started = Date.now();
    await startNode({ url: server.url, hostId: 'host-a' });
    await startNode({ url: server.url, hostId: 'host-b' });
    const s = await waitFor(
      'caught up',
      async () => {
        const info = await getSession(server.url, 's-catchup');
        return converged(info, 2) ? info : undefined;
      },
      60_000,
    );
    t.diagnostic(`2 replicas caught up 10,000 events in ${Date.now() - started} ms (including node start)`);
    assert.equal(s.headSeq, 10_000);
    const state = (await referenceState(server.url, 'writer', W, H, 's-catchup')) as WriterState;
    assert.equal(state.text.length, 10_000);
  });
});
