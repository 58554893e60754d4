// Bring your work in: POST /api/sessions/import creates a session from a file
// whose content enters the durable log as inputs, so every replica holds it
// and the document exports back; bad files are refused before anything exists.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import type { ImportedSession } from '../../protocol/rest.js';
import { authHeaders } from '../../scripts/lib/cluster-secrets.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

describe('import a file into a new session', () => {
  let server: ServerProc;
  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  const post = (query: string, body: Uint8Array | string, headers = authHeaders(server.url)) =>
    fetch(`${server.url}/api/sessions/import?${query}`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/octet-stream' },
      body: typeof body === 'string' ? body : Buffer.from(body),
    });
  const exported = async (sessionId: string, format: string) => {
    const res = await fetch(`${server.url}/api/sessions/${sessionId}/export?format=${format}`, {
      headers: authHeaders(server.url),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return res.text();
  };
  const sessionCount = async () => {
    const res = await fetch(`${server.url}/api/sessions`, { headers: authHeaders(server.url) });
    return ((await res.json()) as { sessions: unknown[] }).sessions.length;
  };

  it('imports .txt into the writer and .csv into the sheet; every replica has it; it exports back', async () => {
    server = await startServer();
    for (const h of ['host-a', 'host-b']) await startNode({ url: server.url, hostId: h });

    const text = `Imported notes\n${'A line of a long report. '.repeat(4000)}\nThe end ✓`;
    const res = await post('format=txt&replicationFactor=2&width=640&height=400', text);
    assert.equal(res.status, 201, await res.clone().text());
    const { session, imported } = (await res.json()) as ImportedSession;
    assert.equal(session.app.name, 'writer');
    assert.ok(imported.inputs >= 2, `a ${text.length}-character file takes several inputs`);
    await waitFor(
      'replicas agree',
      async () => {
        const s = await getSession(server.url, session.sessionId);
        return converged(s, 2) && s.replicas.every((r) => r.appliedSeq === imported.headSeq);
      },
      30_000,
    );
    assert.equal(await exported(session.sessionId, 'txt'), text);

    const csv = 'item,amount\r\nrent,1200\r\nfood,300\r\n"a, b","say ""hi"""\r\ntotal,=B2+B3\r\n';
    const sheet = await post('format=csv&replicationFactor=2', csv);
    assert.equal(sheet.status, 201, await sheet.clone().text());
    const s2 = (await sheet.json()) as ImportedSession;
    assert.equal(s2.session.app.name, 'sheet');
    await waitFor(
      'sheet replicas agree',
      async () => converged(await getSession(server.url, s2.session.sessionId), 2),
      30_000,
    );
    // The export shows computed values: the formula imported as a formula.
    assert.equal(
      await exported(s2.session.sessionId, 'csv'),
      'item,amount\r\nrent,1200\r\nfood,300\r\n"a, b","say ""hi"""\r\ntotal,1500\r\n',
    );

    // Bad files: typed errors, and no session is left behind.
    const before = await sessionCount();
    const badCsv = await post('format=csv', 'a,"never closed\n');
    assert.equal(badCsv.status, 400);
    assert.match(((await badCsv.json()) as { error: { message: string } }).error.message, /not valid CSV/);
    assert.equal((await post('format=txt', new Uint8Array([0xc3, 0x28]))).status, 400);
    assert.equal((await post('format=png', 'x')).status, 400);
    assert.equal((await post('format=csv&app=writer', 'a,b')).status, 400);
    assert.equal((await post('format=txt', new Uint8Array(4 * 1024 * 1024 + 1))).status, 413);
    assert.equal(await sessionCount(), before);

    // A share link may not create sessions.
    const viewer = await TestViewer.connect(server.url);
    const link = await viewer.request({ type: 'share.create', sessionId: session.sessionId, role: 'control' });
    viewer.close();
    assert.equal((await post('format=txt', 'x', { Authorization: `Bearer ${link.token}` })).status, 403);
  });
});
