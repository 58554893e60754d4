// A real server with `--store etcd:` on a real 3-member etcd: inputs are
// acknowledged from etcd, replayed after a server SIGKILL and restart, refused
// (never acknowledged) while etcd has no quorum, and taken again by themselves
// once it has. Sessions and tokens live in etcd too.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_MODS, type InputEvent, type SequencedInput } from '../../protocol/input.js';
import { HealthReportSchema } from '../../protocol/rest.js';
import { EtcdCluster } from '../../server/log/etcd-cluster.js';
import { authHeaders } from '../helpers/credentials.js';
import { startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { RequestFailed, TestViewer, waitFor } from '../helpers/viewer-client.js';

function keyDown(ch: string): InputEvent {
  return { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS };
}

async function logOf(server: ServerProc, sessionId: string): Promise<{ headSeq: number; inputs: SequencedInput[] }> {
  const res = await fetch(`${server.url}/api/sessions/${sessionId}/log?from=1&to=1000`, {
    headers: authHeaders(server.url),
  });
  assert.equal(res.status, 200);
  return (await res.json()) as { headSeq: number; inputs: SequencedInput[] };
}

const text = (inputs: SequencedInput[]): string =>
  inputs.map((i) => (i.event.type === 'key' ? (i.event.text ?? '') : '?')).join('');

describe('server with --store etcd:', () => {
  let cluster: EtcdCluster;
  const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
  const dataDir = makeTmpDir(hooks);
  let env: Record<string, string>;

  before(async () => {
    cluster = await EtcdCluster.create({ members: 3 });
    env = {
      LOCKSTEP_STORE: `etcd:${cluster.clientUrls.join(',')}`,
      LOCKSTEP_CLUSTER_SECRET: 'etcd-store-test-cluster-secret-0123456789',
    };
  });

  after(async () => {
    await stopAll();
    await cluster.close();
  });

  let sessionId = '';
  let clientSeq = 0;
  let server: ServerProc;
  let viewer: TestViewer;

  async function joined(at: ServerProc): Promise<TestViewer> {
    const v = await TestViewer.connect(at.url);
    await v.request({ type: 'session.join', sessionId, clientId: 'typist' });
    return v;
  }

  it('acknowledges inputs from etcd and replays them after a server SIGKILL', async () => {
    const first = await startServer({ dataDir, env });
    const typist = await TestViewer.connect(first.url);
    sessionId = (await typist.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 })).session
      .sessionId;
    await typist.request({ type: 'session.join', sessionId, clientId: 'typist' });
    const acks: number[] = [];
    for (const ch of 'etcd') {
      acks.push((await typist.request({ type: 'input', sessionId, clientSeq: clientSeq++, event: keyDown(ch) })).seq);
    }
    assert.deepEqual(acks, [1, 2, 3, 4]);
    assert.equal(text((await logOf(first, sessionId)).inputs), 'etcd');
    await first.kill('SIGKILL');
    typist.close();

    server = await startServer({ dataDir, env });
    const log = await logOf(server, sessionId);
    assert.equal(log.headSeq, 4);
    // Logged in the owner credential's space (see scopedClientId).
    const typistId = log.inputs[0]?.clientId ?? '';
    assert.match(typistId, /:typist$/);
    assert.deepEqual(
      log.inputs.map((i) => [i.seq, i.clientId, i.clientSeq]),
      [
        [1, typistId, 0],
        [2, typistId, 1],
        [3, typistId, 2],
        [4, typistId, 3],
      ],
    );
    viewer = await joined(server);
    // A resend after the restart is recognised; new inputs continue the seqs.
    const dup = await viewer.request({ type: 'input', sessionId, clientSeq: 3, event: keyDown('d') });
    assert.deepEqual([dup.seq, dup.duplicate], [4, true]);
    const next = await viewer.request({ type: 'input', sessionId, clientSeq: clientSeq++, event: keyDown('!') });
    assert.deepEqual([next.seq, next.duplicate], [5, false]);
  });

  it('refuses inputs while etcd has no quorum and takes them again when it returns', async () => {
    let lastReason: string | undefined;
    const health = async (): Promise<{ status: number; ok: boolean }> => {
      const res = await fetch(`${server.url}/healthz`);
      const report = HealthReportSchema.parse(await res.json());
      lastReason = report.reason;
      return { status: res.status, ok: report.ok };
    };
    assert.deepEqual(await health(), { status: 200, ok: true });
    const headBefore = (await logOf(server, sessionId)).headSeq;

    await cluster.stop(0);
    await cluster.stop(1);
    const seqDuringOutage = clientSeq++;
    const started = Date.now();
    await assert.rejects(
      viewer.request({ type: 'input', sessionId, clientSeq: seqDuringOutage, event: keyDown('x') }),
      (err: unknown) =>
        err instanceof RequestFailed && err.code === 'unavailable' && /not acknowledged; resend it/.test(err.message),
    );
    const refusedAfterMs = Date.now() - started;
    assert.deepEqual(await health(), { status: 503, ok: false });
    assert.match(lastReason ?? '', /the store cannot serve now \(etcd \(3 members\)\): etcd .* failed/);

    await cluster.restart(0, 1);
    // The viewer resends the refused input; it is taken as soon as etcd has a quorum again.
    const ack = await waitFor(
      'input accepted after quorum returns',
      () => viewer.request({ type: 'input', sessionId, clientSeq: seqDuringOutage, event: keyDown('x') }),
      30_000,
      200,
    );
    assert.deepEqual([ack.seq, ack.duplicate], [headBefore + 1, false]);
    assert.deepEqual(await health(), { status: 200, ok: true });
    const log = await logOf(server, sessionId);
    // The typist's inputs, each once (the server also logs its own, e.g. a viewer leaving).
    assert.equal(text(log.inputs.filter((i) => i.clientId.endsWith(':typist'))), 'etcd!x');
    assert.equal(log.headSeq, headBefore + 1);
    viewer.close();
    assert.ok(refusedAfterMs < 15_000, `refusal took ${refusedAfterMs} ms`);
  });
});
