// Operator and viewer extras over real processes: /metrics in the Prometheus
// format (operator token only), copy out of the app through a live replica's
// node, and the failover counter when a node dies.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_MODS } from '../../protocol/input.js';
import { authHeaders } from '../helpers/credentials.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { getSession, RequestFailed, TestViewer, waitFor } from '../helpers/viewer-client.js';

async function metrics(url: string): Promise<string> {
  const res = await fetch(`${url}/metrics`, { headers: authHeaders(url) });
  assert.equal(res.status, 200);
  assert.match(res.headers.get('content-type') ?? '', /^text\/plain/);
  return res.text();
}

function value(text: string, series: string): number | null {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? null : Number(line.slice(series.length + 1));
}

describe('integration: metrics and copy out of the app', () => {
  let server: ServerProc;
  let nodeA: Proc;
  let sessionId: string;
  let viewer: TestViewer;

  before(async () => {
    server = await startServer();
    nodeA = await startNode({ url: server.url, hostId: 'host-a' });
    await startNode({ url: server.url, hostId: 'host-b' });
    viewer = await TestViewer.connect(server.url);
    const { session } = await viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 });
    sessionId = session.sessionId;
    await waitFor('two live replicas', async () => {
      const s = await getSession(server.url, sessionId);
      return s.replicas.filter((r) => r.state === 'live').length === 2 || undefined;
    });
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('copies the app selection from a live replica at the requested seq', async () => {
    await viewer.request({ type: 'session.join', sessionId, clientId: 'copy-test' });
    const nothing = await viewer.request({ type: 'clipboard.copy', sessionId, atSeq: 0 });
    assert.equal(nothing.text, null, 'nothing selected yet');
    await viewer.type(sessionId, 'copy me ✓');
    const selectAll = {
      type: 'key' as const,
      action: 'down' as const,
      key: 'a',
      code: 'KeyA',
      mods: { ...NO_MODS, ctrl: true },
    };
    const { seq } = await viewer.request({ type: 'input', sessionId, clientSeq: viewer.clientSeq++, event: selectAll });
    const res = await viewer.request({ type: 'clipboard.copy', sessionId, atSeq: seq });
    assert.equal(res.text, 'copy me ✓');
    assert.ok(res.seq >= seq);
    await assert.rejects(
      viewer.request({ type: 'clipboard.copy', sessionId, atSeq: seq + 1000 }),
      (e: unknown) => e instanceof RequestFailed && e.code === 'bad-request',
    );
  });

  it('serves Prometheus metrics to the operator only, counting inputs and failovers', async () => {
    const anon = await fetch(`${server.url}/metrics`);
    assert.equal(anon.status, 401);
    const text = await metrics(server.url);
    assert.equal(value(text, 'lockstep_sessions'), 1);
    assert.equal(value(text, 'lockstep_nodes{state="up"}'), 2);
    assert.equal(value(text, 'lockstep_replicas{state="live"}'), 2);
    // 9 keys (one input each: the writer reads no key-ups) and the select-all.
    assert.ok((value(text, 'lockstep_inputs_sequenced_total') ?? 0) >= 10, 'typed inputs are counted');
    assert.equal(
      value(text, `lockstep_session_head_seq{session="${sessionId}"}`),
      (await getSession(server.url, sessionId)).headSeq,
    );
    assert.match(
      text,
      new RegExp(`lockstep_replica_lag_seq\\{session="${sessionId}",replica="[^"]+",host="host-a"\\} \\d+`),
    );
    assert.match(text, /lockstep_replica_heartbeat_age_seconds\{/);
    assert.match(text, /# TYPE lockstep_failovers_total counter/);
    assert.equal(value(text, 'lockstep_failovers_total'), 0);

    await nodeA.kill('SIGKILL');
    const after = await waitFor('the failover is counted', async () => {
      const t = await metrics(server.url);
      return (value(t, 'lockstep_failovers_total') ?? 0) >= 1 ? t : undefined;
    });
    assert.ok((value(after, 'lockstep_replica_removals_total{cause="node-gone"}') ?? 0) >= 1);
  });
});
