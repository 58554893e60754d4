// A copy asked of a replica that the server counts live before its node has
// listed it, over real processes. The server marks a fresh replica live once
// its video is produced; the node still opens the tile channel and starts the
// app before it lists the replica (about 100 ms on a quiet box, more under
// load). A `clipboard.copy` in that window used to be dropped at the node
// without a word, and the viewer's first copy failed after the server's 5 s
// (the fresh-clone CI's operator.test.ts flake). The node now holds what the
// server sends for a replica it is still starting and handles it once the
// replica is listed. LOCKSTEP_FAULT_SLOW_START_MS stretches the window to
// 2.5 s so the copy lands in it every time.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { NO_MODS } from '../../protocol/input.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const SLOW_START_MS = 2500;

describe('integration: a copy asked while the replica is still starting at its node', () => {
  let server: ServerProc;
  let viewer: TestViewer;

  before(async () => {
    server = await startServer();
    // Both slow: whichever replica the server asks is in its window.
    const env = { LOCKSTEP_FAULT_SLOW_START_MS: String(SLOW_START_MS) };
    await Promise.all(['slow-a', 'slow-b'].map((hostId) => startNode({ url: server.url, hostId, env })));
    viewer = await TestViewer.connect(server.url);
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('is answered once the node lists the replica, not dropped', async () => {
    const { session } = await viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 });
    const sessionId = session.sessionId;
    // Live at the server from their produce on: the nodes list them SLOW_START_MS later.
    await waitFor('both replicas live at the server', async () => {
      const s = await getSession(server.url, sessionId);
      return s.replicas.filter((r) => r.state === 'live').length === 2 || undefined;
    });
    await viewer.request({ type: 'session.join', sessionId, clientId: 'early-copy' });
    const copy = await viewer.request({ type: 'clipboard.copy', sessionId, atSeq: 0 });
    assert.equal(copy.text, null, 'nothing selected yet');
    assert.equal(copy.seq, 0);
    // And the held inputs and requests did not wedge the replica: it copies what is typed next.
    await viewer.type(sessionId, 'ok');
    const { seq } = await viewer.request({
      type: 'input',
      sessionId,
      clientSeq: viewer.clientSeq++,
      event: { type: 'key', action: 'down', key: 'a', code: 'KeyA', mods: { ...NO_MODS, ctrl: true } },
    });
    const typed = await viewer.request({ type: 'clipboard.copy', sessionId, atSeq: seq });
    assert.equal(typed.text, 'ok');
  });
});
