// Key releases only for apps that read them, on a real server (SQLite) with
// real renderer nodes: the writer's manifest says `keyUps: false`, so a key-up
// sent to it (as a viewer from before this version sends one) is refused with
// a typed error and not written to the input log, while its key-downs are; the
// sender's next key goes on after the hole instead of being held as out of
// order. A published SDK app whose manifest says nothing gets its key-ups
// logged and applied. The log is read from the server's database file itself.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import Database from 'better-sqlite3';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import type { Result } from '../../protocol/errors.js';
import type { InputAck } from '../../protocol/signalling.js';
import { packAppFolder } from '../../render/bundle/pack-folder.js';
import { publishBundle } from '../../render/bundle/publish-client.js';
import { startBundleNode } from '../helpers/bundle-node.js';
import { removeDir, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const TALLY = fileURLToPath(new URL('../fixtures/apps/tally/', import.meta.url));

const down = (ch: string): InputEvent => ({ type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS });
const up = (ch: string): InputEvent => ({ type: 'key', action: 'up', key: ch, code: '', mods: NO_MODS });

/** The session's logged inputs as the server's database holds them: [clientSeq, type/action] in seq order. */
function logged(server: ServerProc, sessionId: string): Array<[number, string]> {
  const db = new Database(join(server.dataDir, 'lockstep.sqlite'), { readonly: true, fileMustExist: true });
  try {
    const rows = db
      .prepare('SELECT client_seq, event FROM inputs WHERE session_id = ? ORDER BY seq')
      .all(sessionId) as Array<{ client_seq: number; event: string }>;
    return rows.map((r) => {
      const e = JSON.parse(r.event) as InputEvent;
      return [r.client_seq, e.type === 'key' ? `key-${e.action}` : e.type];
    });
  } finally {
    db.close();
  }
}

describe('key-ups only for apps that read them', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  const cacheDirs: string[] = [];

  before(async () => {
    server = await startServer();
    await Promise.all(
      ['ku-a', 'ku-b'].map((hostId) => startBundleNode({ url: server.url, hostId, apps: 'published', cacheDirs })),
    );
    viewer = await TestViewer.connect(server.url);
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
    for (const dir of cacheDirs) removeDir(dir);
  });

  it('the writer: key-ups refused unlogged, key-downs logged, an old viewer not held up by the holes', async () => {
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: 640,
      height: 480,
    });
    const sessionId = session.sessionId;
    assert.deepEqual(session.inputs, { keyUps: false, touch: 'text' }, 'SessionInfo says what the viewer may skip');
    await viewer.request({ type: 'session.join', sessionId, clientId: 'old-viewer' });
    // A viewer from before keyUps: every key as down + up, all sent at once, nothing awaited in between.
    const events = [...'abc'].flatMap((ch) => [down(ch), up(ch)]);
    const answers = (await Promise.all(
      events.map((event, clientSeq) => viewer.raw({ type: 'input', sessionId, clientSeq, event })),
    )) as Array<Result<InputAck>>;
    assert.deepEqual(
      answers.map((a) => (a.ok ? `seq ${a.data.seq}` : a.error.code)),
      ['seq 1', 'unwanted-input', 'seq 2', 'unwanted-input', 'seq 3', 'unwanted-input'],
    );
    const refusal = answers[1];
    assert.ok(refusal && !refusal.ok);
    assert.match(refusal.error.message, /keyUps/);
    // Its next input keeps the number it had (6): passed over the holes, not "skips ahead; expected 2".
    const next = (await viewer.raw({ type: 'input', sessionId, clientSeq: 6, event: down('d') })) as Result<InputAck>;
    assert.ok(next.ok, JSON.stringify(next));
    assert.deepEqual(next.data, { seq: 4, duplicate: false });
    assert.deepEqual(logged(server, sessionId), [
      [0, 'key-down'],
      [2, 'key-down'],
      [4, 'key-down'],
      [6, 'key-down'],
    ]);
    // A re-join hears the log's count; the replicas agree at the head, having applied only what was logged.
    const join = await viewer.request({ type: 'session.join', sessionId, clientId: 'old-viewer' });
    assert.equal(join.lastClientSeq, 6);
    const s = await waitFor('two replicas agreeing at seq 4', async () => {
      const info = await getSession(server.url, sessionId);
      return info.headSeq === 4 && converged(info, 2) ? info : undefined;
    });
    assert.equal(s.headSeq, 4);
    // Typing as the viewer does now: one input per key.
    viewer.clientSeq = join.lastClientSeq + 1;
    const seqs = await viewer.type(sessionId, 'ef');
    assert.deepEqual(seqs, [5, 6]);
  });

  it('an SDK app that declares nothing gets its key-ups logged and applied', async (t) => {
    const packed = packAppFolder(TALLY);
    await publishBundle(server.url, server.ownerToken, {
      name: 'tally',
      version: '1.0.0',
      hash: packed.hash,
      bytes: packed.bytes,
    });
    // Its own viewer: client seqs count per client from 0.
    const typist = await TestViewer.connect(server.url);
    t.after(() => typist.close());
    const { session } = await typist.request({
      type: 'sessions.create',
      app: 'tally',
      replicationFactor: 2,
      width: 320,
      height: 240,
    });
    const sessionId = session.sessionId;
    assert.deepEqual(session.inputs, { keyUps: true, touch: 'draw' });
    await typist.request({ type: 'session.join', sessionId, clientId: 'tally-viewer' });
    const seqs = await typist.type(sessionId, 'abc');
    assert.deepEqual(seqs, [1, 2, 3, 4, 5, 6]);
    assert.deepEqual(
      logged(server, sessionId).map(([, kind]) => kind),
      ['key-down', 'key-up', 'key-down', 'key-up', 'key-down', 'key-up'],
    );
    // Tally counts every key input: its replicas' hash is the one of a state with 6 keys, not 3.
    const expected = createHash('sha256')
      .update(JSON.stringify({ width: 320, height: 240, keys: 6 }))
      .digest('hex')
      .slice(0, 32);
    const s = await waitFor(
      'two tally replicas agreeing at seq 6',
      async () => {
        const info = await getSession(server.url, sessionId);
        return info.headSeq === 6 && converged(info, 2) ? info : undefined;
      },
      60_000,
    );
    assert.equal(s.replicas.find((r) => r.state === 'live')?.stateHash, expected);
  });
});
