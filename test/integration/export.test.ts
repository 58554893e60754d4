// Take your work out: GET /api/sessions/:id/export serves the document as a
// file at the head seq, and only bytes that replicas on a majority of the
// session's hosts produced alike. A hostile renderer node (real renderer in
// fault mode: honest state, forged documents) can neither change the file nor
// get its forgery served on its own word.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { authHeaders } from '../../scripts/lib/cluster-secrets.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

describe('export of a document', () => {
  let server: ServerProc;
  const nodes = new Map<string, Proc>();
  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  const get = (path: string, headers = authHeaders(server.url)) => fetch(`${server.url}${path}`, { headers });

  it('serves what was typed, agreed by two honest hosts, and never a lone forgery', async () => {
    server = await startServer();
    for (const h of ['host-a', 'host-b']) nodes.set(h, await startNode({ url: server.url, hostId: h }));
    nodes.set(
      'host-evil',
      await startNode({ url: server.url, hostId: 'host-evil', env: { LOCKSTEP_FAULT_FORGE_SNAPSHOTS: '1' } }),
    );
    const viewer = await TestViewer.connect(server.url);
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 3,
      width: 480,
      height: 320,
    });
    const sessionId = session.sessionId;
    await viewer.request({ type: 'session.join', sessionId, clientId: 'owner' });
    await waitFor('3 live', async () => converged(await getSession(server.url, sessionId), 3), 30_000);

    const typed = 'Take your work out. Déjà vu ✓';
    const headSeq = (await viewer.type(sessionId, typed)).at(-1);

    const offered = await get(`/api/sessions/${sessionId}/export`);
    assert.equal(offered.status, 200);
    assert.deepEqual(await offered.json(), { formats: ['txt', 'md'] });

    // Every acknowledged input is in the file (it is cut at the head seq).
    const txt = await get(`/api/sessions/${sessionId}/export?format=txt`);
    assert.equal(txt.status, 200, await txt.clone().text());
    assert.match(txt.headers.get('content-type') ?? '', /^text\/plain; charset=utf-8/);
    assert.equal(txt.headers.get('content-disposition'), `attachment; filename="${sessionId}.txt"`);
    assert.equal(txt.headers.get('x-lockstep-seq'), String(headSeq));
    assert.equal(await txt.text(), typed);

    // A format the app does not offer, and a malformed one: typed 400s.
    const png = await get(`/api/sessions/${sessionId}/export?format=png`);
    assert.equal(png.status, 400);
    assert.match(((await png.json()) as { error: { message: string } }).error.message, /exports txt, md/);
    assert.equal((await get(`/api/sessions/${sessionId}/export?format=../x`)).status, 400);
    // No token, no file.
    assert.equal((await get(`/api/sessions/${sessionId}/export?format=txt`, {})).status, 401);

    // A view-only link may export what it sees, as it may copy.
    const share = await viewer.request({ type: 'share.create', sessionId, role: 'view', ttlSeconds: 600 });
    const viaLink = await get(`/api/sessions/${sessionId}/export?format=md`, {
      Authorization: `Bearer ${share.token}`,
    });
    assert.equal(viaLink.status, 200);
    assert.equal(await viaLink.text(), typed);

    // One honest host left beside the hostile one: two files that differ, a quorum of two
    // hosts needed. Nothing is served rather than the forgery.
    await nodes.get('host-b')?.kill('SIGKILL');
    nodes.delete('host-b');
    await waitFor(
      'host-b gone from the session',
      async () => {
        const s = await getSession(server.url, sessionId);
        const live = s.replicas.filter((r) => r.state === 'live');
        return live.length === 2 && !live.some((r) => r.hostId === 'host-b');
      },
      30_000,
    );
    const disagreements = () => server.output().split('replicas disagree on the export').length - 1;
    const loggedBefore = disagreements();
    const refused = await get(`/api/sessions/${sessionId}/export?format=txt`);
    assert.equal(refused.status, 409, await refused.clone().text());
    assert.match(await refused.text(), /did not produce the same file/);
    // The server logs asynchronously (pino, sync: false) and its stderr pipe is read apart from the HTTP
    // socket, so the line may reach us after the answer: wait for this refusal's own line.
    await waitFor('the refusal logged', () => disagreements() > loggedBefore, 5000, 20);

    // Another honest host joins: the honest file is served again.
    nodes.set('host-c', await startNode({ url: server.url, hostId: 'host-c' }));
    await waitFor('3 live again', async () => converged(await getSession(server.url, sessionId), 3), 30_000);
    const again = await get(`/api/sessions/${sessionId}/export?format=txt`);
    assert.equal(again.status, 200);
    assert.equal(await again.text(), typed);
    viewer.close();
  });
});
