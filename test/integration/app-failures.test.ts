// A published app that misbehaves, on real renderer nodes: one that throws in
// init, apply or render, or tries a way out of the sandbox (clocks,
// randomness, timers, fetch, require, process.exit, an endless loop, unbounded
// memory). Each time the replica fails with a typed error that its node logs,
// the node process stays up, and a writer session hosted on the same nodes
// keeps taking input and agreeing.
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { packAppFolder } from '../../render/bundle/pack-folder.js';
import { publishBundle } from '../../render/bundle/publish-client.js';
import { INIT_THROWS_AT_WIDTH } from '../fixtures/apps/hostile/index.js';
import { startBundleNode } from '../helpers/bundle-node.js';
import { removeDir, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, RequestFailed, TestViewer, waitFor } from '../helpers/viewer-client.js';

const HOSTILE = fileURLToPath(new URL('../fixtures/apps/hostile/', import.meta.url));
const HOSTS = ['fail-a', 'fail-b'];

interface LogLine {
  msg?: string;
  level?: number;
  sessionId?: string;
  call?: string;
  reason?: string;
  err?: { type?: string; message?: string };
}

function logLines(proc: Pick<Proc, 'output'> | undefined): LogLine[] {
  return (proc?.output() ?? '').split('\n').flatMap((line) => {
    if (!line.startsWith('{')) return [];
    try {
      return [JSON.parse(line) as LogLine];
    } catch {
      return [];
    }
  });
}

describe('a published app that throws or misbehaves on real nodes', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  let hash = '';
  const nodes = new Map<string, Proc>();
  const cacheDirs: string[] = [];
  const typists: TestViewer[] = [];

  before(async () => {
    server = await startServer();
    for (const hostId of HOSTS) {
      // A small heap bound keeps the memory attempt cheap on a shared machine; the bound is what is tested.
      const env = { LOCKSTEP_APP_HEAP_MB: '64' };
      nodes.set(hostId, await startBundleNode({ url: server.url, hostId, apps: 'published', cacheDirs, env }));
    }
    viewer = await TestViewer.connect(server.url);
    const packed = packAppFolder(HOSTILE);
    hash = packed.hash;
    await publishBundle(server.url, server.ownerToken, {
      name: 'hostile',
      version: '0.0.1',
      hash,
      bytes: packed.bytes,
    });
  });

  after(async () => {
    viewer?.close();
    for (const t of typists) t.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
    for (const dir of cacheDirs) removeDir(dir);
  });

  const alive = (): void => {
    for (const [host, proc] of nodes) {
      assert.equal(proc.child.exitCode, null, `${host} exited:\n${proc.output().slice(-3000)}`);
      assert.equal(proc.child.signalCode, null, `${host} was killed`);
      assert.ok(!logLines(proc).some((l) => (l.level ?? 0) >= 60), `${host} logged nothing fatal`);
    }
  };

  /** A writer session on both nodes, with its own typist (client seqs count per client and session). */
  async function writerSession(): Promise<{ sessionId: string; typist: TestViewer }> {
    const typist = await TestViewer.connect(server.url);
    typists.push(typist);
    const { session } = await typist.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 });
    await typist.request({ type: 'session.join', sessionId: session.sessionId, clientId: 'typist' });
    return { sessionId: session.sessionId, typist };
  }

  /** Typed into after each round of failures, the writer session must keep agreeing on both nodes. */
  async function writerKeepsGoing(w: { sessionId: string; typist: TestViewer }, text: string): Promise<void> {
    const { sessionId } = w;
    const seqs = await w.typist.type(sessionId, text);
    const head = seqs.at(-1) ?? 0;
    await waitFor(
      `the writer session converged at seq ${head}`,
      async () => {
        const s = await getSession(server.url, sessionId);
        return s.headSeq === head && converged(s, 2) && s.replicas.every((r) => r.appliedSeq === head);
      },
      60_000,
    );
  }

  it('throws in apply or render, and every sandbox escape, fail that replica only, with the reason logged', async () => {
    const writer = await writerSession();
    await writerKeepsGoing(writer, 'before ');

    // What each attempt must be reported as, in the node's 'app failed; replica stops' line.
    const attempts: [string, 'apply' | 'render', RegExp][] = [
      ['throw', 'apply', /apply threw: (Error: )?hostile app threw on purpose/],
      ['render', 'render', /render threw: (Error: )?hostile app render threw on purpose/],
      ['date', 'apply', /Date\.now is not available/],
      ['random', 'apply', /Math\.random is not available/],
      ['settimeout', 'apply', /is not a function/],
      ['fetch', 'apply', /is not a function/],
      ['require', 'apply', /is not a function/],
      ['process', 'apply', /Cannot read properties of undefined/],
      ['escape', 'apply', /Code generation from strings disallowed/],
      ['loop', 'apply', /did not answer|timed out/],
      // Stopped by the heap bound, or by the time bound first when the machine is slow: contained either way.
      ['alloc', 'apply', /memory|heap|did not answer|exited|worker|timed out/i],
    ];
    // One at a time: a failed replica's replacement fails on the same logged input, so each session is closed
    // once its failures are seen (they would otherwise hold the nodes' replica slots).
    for (const [attempt, call, why] of attempts) {
      const { session } = await viewer.request({
        type: 'sessions.create',
        app: hash,
        replicationFactor: 2,
        width: 320,
        height: 240,
      });
      const { sessionId } = session;
      let last: unknown;
      await waitFor(
        `hostile ${attempt} replicas running`,
        async () => {
          const s = await getSession(server.url, sessionId);
          last = s;
          return s.replicas.filter((r) => r.state === 'live').length === 2;
        },
        30_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}: ${JSON.stringify(last)}\n${server.output().slice(-5000)}`);
      });
      // Its own client id: client seqs count per client and session from 0.
      await viewer.request({ type: 'session.join', sessionId, clientId: `hostile-${attempt}` });
      await viewer.request({ type: 'input', sessionId, clientSeq: 0, event: { type: 'paste', text: attempt } });
      // A render runs once something draws the state (a thumbnail, a watcher): at least one replica meets it.
      const needed = call === 'render' ? 1 : HOSTS.length;
      const failures = (): LogLine[] =>
        HOSTS.flatMap((h) =>
          logLines(nodes.get(h)).filter((l) => l.msg === 'app failed; replica stops' && l.sessionId === sessionId),
        );
      await waitFor(`${attempt}: replicas failed`, () => failures().length >= needed, 60_000);
      for (const line of failures()) {
        assert.equal(line.call, call, `${attempt}: ${JSON.stringify(line)}`);
        assert.match(line.err?.message ?? '', why, `${attempt}: ${JSON.stringify(line.err)}`);
        assert.match(line.err?.type ?? '', /^App(Code|Stopped)Error$/, `${attempt}: a typed error`);
      }
      if (call === 'apply') {
        // Both hosts failed on input 1: the app failed there, reported with a typed reason (not restarted forever).
        const s = await waitFor(
          `${attempt}: the session reports the app failed`,
          async () => {
            const info = await getSession(server.url, sessionId);
            return info.appFailure ? info : undefined;
          },
          30_000,
        );
        assert.equal(s.appFailure?.seq, 1, `${attempt}: ${JSON.stringify(s.appFailure)}`);
        assert.match(s.appFailure?.reason ?? '', /^app-(threw|timeout|memory)$/);
      }
      await viewer.request({ type: 'sessions.close', sessionId });
      alive();
    }
    alive();
    await writerKeepsGoing(writer, 'after');
    alive();
  });

  it('throws at input N on both hosts: the session fails at N instead of looping, the other session is untouched', async () => {
    const writer = await writerSession();
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: hash,
      replicationFactor: 2,
      width: 320,
      height: 240,
    });
    const { sessionId } = session;
    await waitFor(
      'hostile replicas live',
      async () => (await getSession(server.url, sessionId)).replicas.filter((r) => r.state === 'live').length === 2,
      30_000,
    );
    await viewer.request({ type: 'session.join', sessionId, clientId: 'deterministic' });
    const texts = ['probe', 'probe', 'throw'];
    for (const [clientSeq, text] of texts.entries()) {
      await viewer.request({ type: 'input', sessionId, clientSeq, event: { type: 'paste', text } });
    }
    const failed = await waitFor(
      'the session reached the failed state',
      async () => {
        const info = await getSession(server.url, sessionId);
        return info.appFailure ? info : undefined;
      },
      60_000,
    );
    assert.deepEqual(
      { seq: failed.appFailure?.seq, reason: failed.appFailure?.reason },
      { seq: texts.length, reason: 'app-threw' },
    );
    assert.match(failed.appFailure?.message ?? '', /hostile app threw on purpose/);
    const placed = (): number =>
      logLines(server).filter((l) => l.msg === 'replica placed' && l.sessionId === sessionId).length;
    const placedAtFailure = placed();
    // Today's status timeout is ~5 s: well past it, nothing was placed again and no replica runs.
    await new Promise((r) => setTimeout(r, 8_000));
    assert.equal(placed(), placedAtFailure, 'no replica is placed after the app failed');
    const later = await getSession(server.url, sessionId);
    assert.equal(later.replicas.length, 0);
    assert.equal(later.headSeq, texts.length, 'the log is kept');
    // Input after the failure: a typed refusal, nothing logged.
    await assert.rejects(
      viewer.request({ type: 'input', sessionId, clientSeq: texts.length, event: { type: 'paste', text: 'x' } }),
      (err: unknown) =>
        err instanceof RequestFailed && err.code === 'conflict' && /app failed at input 3/.test(err.message),
    );
    assert.equal((await getSession(server.url, sessionId)).headSeq, texts.length);
    await writerKeepsGoing(writer, 'still here');
    await viewer.request({ type: 'sessions.close', sessionId });
    alive();
  });

  it('throws in init: each node reports the app failed at seq 0, and the writer session is untouched', async () => {
    const writer = await writerSession();
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: hash,
      replicationFactor: 2,
      width: INIT_THROWS_AT_WIDTH,
      height: 240,
    });
    for (const host of HOSTS) {
      await waitFor(
        `${host} refusing the replica whose init threw`,
        () =>
          logLines(nodes.get(host)).some(
            (l) =>
              l.msg === 'replica start failed' &&
              /init threw: (Error: )?hostile app init threw/.test(l.err?.message ?? ''),
          ),
        60_000,
      ).catch((err: unknown) => {
        throw new Error(`${String(err)}\n${nodes.get(host)?.output().slice(-4000)}`);
      });
    }
    const info = await waitFor(
      'the session reports the app failed in init',
      async () => {
        const s = await getSession(server.url, session.sessionId);
        // The replacement placed after the first host's report fails in init too, and is gone then.
        return s.appFailure && s.replicas.length === 0 ? s : undefined;
      },
      30_000,
    );
    assert.deepEqual({ seq: info.appFailure?.seq, reason: info.appFailure?.reason }, { seq: 0, reason: 'app-threw' });
    assert.ok(
      logLines(server).some((l) => l.msg === 'the app failed in a replica' && l.reason === 'app-threw'),
      'the server logged the failure and its reason',
    );
    await writerKeepsGoing(writer, 'init');
    alive();
  });
});
