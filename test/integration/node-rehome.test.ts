// Nodes move home without rebuilding their replicas (real processes): (a) a
// SIGKILLed server restarted on the same port and SQLite file adopts the
// replicas its nodes kept running; (b) on a 3-member etcd, nodes whose
// server A is SIGKILLed move to B (one given `--server A,B`, one given only A
// that learned B from GET /api/servers), and B adopts their replicas.
// Either way the replicas keep their ids, nothing is placed afresh or
// restored from a snapshot, the typed text is complete and the hashes agree.
// Diagnostic: time from the kill to re-registered and to producing again.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { WriterState } from '../../render/apps/writer/index.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { referenceState } from '../helpers/reference-render.js';
import { keyDown } from '../helpers/key-input.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { createWriterSession, joinUntilLive, liveWriterSession } from '../helpers/writer-session.js';

const W = 480;
const H = 320;
const INFO = { LOCKSTEP_LOG_LEVEL: 'info' };

async function typeText(v: TestViewer, sessionId: string, text: string): Promise<void> {
  for (const ch of text) await v.request({ type: 'input', sessionId, clientSeq: v.clientSeq++, event: keyDown(ch) });
}

interface LogLine {
  time: number;
  msg: string;
  replicaId?: string;
  held?: number;
}

/** The JSON log lines a process wrote after `from` (an offset into its output). */
function logLines(p: Proc, from: number): LogLine[] {
  const out: LogLine[] = [];
  for (const line of p.output().slice(from).split('\n')) {
    if (!line.startsWith('{')) continue;
    try {
      out.push(JSON.parse(line) as LogLine);
    } catch {
      // a line cut by the output buffer
    }
  }
  return out;
}

/** Waits until every node registered again and produces every adopted replica; returns the times since `killedAt`. */
async function rehomed(nodes: Proc[], marks: number[], killedAt: number, replicas: number) {
  return waitFor(
    'nodes re-registered and producing their adopted replicas',
    () => {
      const lines = nodes.flatMap((n, i) => logLines(n, marks[i] ?? 0));
      const registered = lines.filter((l) => l.msg === 'registered' && (l.held ?? 0) > 0);
      const producing = lines.filter((l) => l.msg === 'adopted replica producing');
      if (registered.length < nodes.length || producing.length < replicas) return undefined;
      return {
        registeredMs: Math.max(...registered.map((l) => l.time)) - killedAt,
        producingMs: Math.max(...producing.map((l) => l.time)) - killedAt,
      };
    },
    30_000,
  );
}

/** Nothing was rebuilt: no node started or restored a replica after `marks`, every one says adopted. */
function assertNotRebuilt(nodes: Proc[], marks: number[]): void {
  const lines = nodes.flatMap((n, i) => logLines(n, marks[i] ?? 0));
  assert.equal(lines.filter((l) => l.msg === 'replica started').length, 0, 'no replica was created afresh');
  assert.equal(lines.filter((l) => l.msg === 'restored from snapshot').length, 0, 'no replica restored a snapshot');
  assert.equal(lines.filter((l) => l.msg === 'held replica not adopted; closing it').length, 0);
}

describe('nodes move home without rebuilding their replicas', () => {
  const dirs: string[] = [];
  const etcd = etcdSuite(stopAll);
  after(async () => {
    await stopAll();
    for (const d of dirs) removeDir(d);
  });

  it('(a) a restarted server adopts the replicas its nodes kept running (SQLite)', async () => {
    let server: ServerProc = await startServer({ env: INFO });
    dirs.push(server.dataDir);
    const nodes: Proc[] = [];
    for (const h of ['host-a', 'host-b', 'host-c'])
      nodes.push(await startNode({ url: server.url, hostId: h, env: INFO }));
    let viewer = await TestViewer.connect(server.url);
    const { sessionId } = await liveWriterSession(viewer, server.url, { r: 3, width: W, height: H });
    const before = 'Adopted, not rebuilt: ';
    await typeText(viewer, sessionId, before);
    const s0 = await waitFor('converged before the kill', async () => {
      const info = await getSession(server.url, sessionId);
      return converged(info, 3) ? info : undefined;
    });
    const ids = s0.replicas.map((r) => r.replicaId).sort();

    const marks = nodes.map((n) => n.output().length);
    const port = Number(new URL(server.url).port);
    const killedAt = Date.now();
    await server.kill('SIGKILL');
    viewer.close();
    server = await startServer({ dataDir: server.dataDir, port, env: INFO });
    const t = await rehomed(nodes, marks, killedAt, 3);

    viewer = await TestViewer.connect(server.url);
    await viewer.request({ type: 'session.join', sessionId, clientId: 'typist' });
    viewer.clientSeq = before.length;
    const afterText = 'the same three replicas.';
    await typeText(viewer, sessionId, afterText);
    const s = await waitFor(
      'converged after the restart',
      async () => {
        const info = await getSession(server.url, sessionId);
        return converged(info, 3) ? info : undefined;
      },
      30_000,
    );
    assert.deepEqual(s.replicas.map((r) => r.replicaId).sort(), ids, 'the replicas kept their ids');
    assertNotRebuilt(nodes, marks);
    const serverLog = server.output();
    assert.ok(!serverLog.includes('"msg":"replica placed"'), 'the restarted server placed no replica');
    assert.equal(serverLog.split('"msg":"replica adopted"').length - 1, 3, 'it adopted three');
    const state = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterState;
    assert.equal(state.text, before + afterText, 'every acknowledged keystroke is there');
    assert.equal(s.headSeq, before.length + afterText.length);
    process.stdout.write(
      `(a) server restart: kill → re-registered ${t.registeredMs} ms, → producing again ${t.producingMs} ms\n`,
    );
    viewer.close();
  });

  it('(b) nodes whose server A is SIGKILLed move to server B, given or learned, which adopts their replicas (etcd)', async () => {
    const env = {
      ...INFO,
      LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`,
      LOCKSTEP_CLUSTER_SECRET: 'rehome-test-cluster-secret-0123456789',
    };
    const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
    const a = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'a' } });
    const viewerA = await TestViewer.connect(a.url);
    const sessionId = await createWriterSession(viewerA, { r: 2, width: W, height: H });
    // B must know the session: it loads sessions from etcd when it starts (no session watch yet).
    const b = await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: 'b' } });
    const nodes: Proc[] = [];
    // host-x is given both servers; host-y only A, and learns B from A's GET /api/servers.
    const serverList: Record<string, Record<string, string>> = {
      'host-x': { LOCKSTEP_SERVER_URL: `${a.url},${b.url}` },
      'host-y': { LOCKSTEP_SERVER_URL: a.url, LOCKSTEP_SERVER_LIST_REFRESH_MS: '300' },
    };
    for (const h of ['host-x', 'host-y']) {
      const nodeEnv = { ...INFO, ...serverList[h], LOCKSTEP_JOIN_TOKEN: await a.hostToken(h) };
      nodes.push(await startNode({ url: a.url, hostId: h, env: nodeEnv }));
    }
    await joinUntilLive(viewerA, a.url, sessionId, { r: 2, what: '2 live on A' });
    // Typed on A after B started: B learns the head from the log when the nodes announce more.
    const before = 'Moved home ';
    await typeText(viewerA, sessionId, before);
    const s0 = await waitFor('converged on A', async () => {
      const info = await getSession(a.url, sessionId);
      return converged(info, 2) ? info : undefined;
    });
    const ids = s0.replicas.map((r) => r.replicaId).sort();

    const marks = nodes.map((n) => n.output().length);
    const killedAt = Date.now();
    await a.kill('SIGKILL');
    viewerA.close();
    const t = await rehomed(nodes, marks, killedAt, 2);

    const viewerB = await TestViewer.connect(b.url);
    await viewerB.request({ type: 'session.join', sessionId, clientId: 'typist' });
    viewerB.clientSeq = before.length;
    const afterText = 'to server B.';
    await typeText(viewerB, sessionId, afterText);
    const s = await waitFor(
      'converged on B',
      async () => {
        const info = await getSession(b.url, sessionId);
        return converged(info, 2) ? info : undefined;
      },
      30_000,
    );
    assert.deepEqual(s.replicas.map((r) => r.replicaId).sort(), ids, 'the replicas kept their ids');
    assertNotRebuilt(nodes, marks);
    assert.equal(b.output().split('"msg":"replica adopted"').length - 1, 2, 'B adopted both');
    assert.ok(!b.output().includes('"msg":"replica placed"'), 'B placed no replica');
    const state = (await referenceState(b.url, 'writer', W, H, sessionId)) as WriterState;
    assert.equal(state.text, before + afterText, 'every acknowledged keystroke is there');
    process.stdout.write(
      `(b) server A killed: kill → registered at B ${t.registeredMs} ms, → producing into B ${t.producingMs} ms\n`,
    );
    viewerB.close();
  });
});
