// Attack: one admitted renderer node rewrites a session's document through a
// snapshot. The hostile node (a real renderer in fault-injection mode) keeps
// honest state and honest status reports, pushes a forged snapshot nobody
// asked for, and answers every checkpoint with a forgery. Nothing of it may
// be stored, no honest host may be quarantined, and the owner's text must be
// whole on new hosts and after a server restart.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { NO_MODS } from '../../protocol/input.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import { statusHashOf } from '../../render/app-hash.js';
import { getApp } from '../../render/apps/index.js';
import { toReplicaApp } from '../../render/replica-app.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { fetchLog, fetchSnapshot } from '../helpers/reference-render.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { liveWriterSession } from '../helpers/writer-session.js';

const W = 480;
const H = 320;
const writer = getApp('writer');

function textOf(state: unknown): string {
  return (state as WriterState).text;
}

describe('a hostile renderer node cannot change the document through snapshots', () => {
  let server: ServerProc;
  const nodes = new Map<string, Proc>();
  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('refuses its snapshots, stores only quorum-confirmed ones, and the text survives new hosts and a restart', async () => {
    server = await startServer({ env: { LOCKSTEP_SNAPSHOT_EVERY: '40' } });
    for (const h of ['host-a', 'host-b']) nodes.set(h, await startNode({ url: server.url, hostId: h }));
    nodes.set(
      'host-evil',
      await startNode({ url: server.url, hostId: 'host-evil', env: { LOCKSTEP_FAULT_FORGE_SNAPSHOTS: '1' } }),
    );
    const viewer = await TestViewer.connect(server.url);
    const { sessionId } = await liveWriterSession(viewer, server.url, { r: 3, width: W, height: H, clientId: 'owner' });

    let typed = '';
    const type = async (text: string) => {
      for (const ch of text) {
        await viewer.request({
          type: 'input',
          sessionId,
          clientSeq: viewer.clientSeq++,
          event: { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS },
        });
        typed += ch;
      }
    };
    for (let i = 0; i < 3; i++) {
      await type(`Paragraph ${i}: only what the owner typed may ever be stored. `);
      await new Promise((r) => setTimeout(r, 600));
    }

    // The forgery pushed at catch-up was refused and logged.
    await waitFor('the unsolicited snapshot refused', () =>
      server.output().includes('refused an unsolicited snapshot'),
    );
    // Checkpoints were confirmed by the two honest hosts, never by the hostile one.
    const snap = await waitFor(
      'a second confirmed snapshot',
      async () => {
        const s = await fetchSnapshot(server.url, sessionId);
        return s && s.seq >= 80 ? s : undefined;
      },
      30_000,
    );
    const stored = textOf(writer.restore(Buffer.from(snap.data, 'base64')));
    assert.ok(!stored.includes('FORGED'), 'the stored snapshot is not the forgery');
    assert.equal(stored, typed.slice(0, snap.seq), 'the stored snapshot is the owner’s text at its seq');
    assert.ok(!/quarantined/.test(server.output()), 'no host was quarantined');

    // Every replica dies; new honest hosts start from the stored snapshot plus the log.
    for (const p of nodes.values()) await p.kill('SIGKILL');
    nodes.clear();
    for (const h of ['host-d', 'host-e', 'host-f']) nodes.set(h, await startNode({ url: server.url, hostId: h }));
    await type(' Back.');
    const check = async (what: string) => {
      const info = await waitFor(
        what,
        async () => {
          const s = await getSession(server.url, sessionId);
          const hashes = new Set(s.replicas.map((r) => r.stateHash));
          return converged(s, 3) && hashes.size === 1 ? s : undefined;
        },
        30_000,
      );
      assert.deepEqual(new Set(info.replicas.map((r) => r.hostId)), new Set(['host-d', 'host-e', 'host-f']));
      const latest = await fetchSnapshot(server.url, sessionId);
      assert.ok(latest, 'a snapshot is stored');
      const log = await fetchLog(server.url, sessionId, latest.seq + 1);
      const state = log.reduce((s, i) => writer.apply(s, i), writer.restore(Buffer.from(latest.data, 'base64')));
      assert.equal(textOf(state), typed, `${what}: snapshot + log is exactly what was typed`);
      // The replicas show that state, not another one.
      assert.equal(info.replicas[0]?.stateHash, await statusHashOf(toReplicaApp(writer), state));
    };
    await check('restored on new hosts');

    // A server restart keeps the same, honest document.
    const dataDir = server.dataDir;
    const port = Number(new URL(server.url).port);
    await server.kill('SIGKILL');
    server = await startServer({ dataDir, port });
    await check('after a server restart');
    assert.ok(!/quarantined/.test(server.output()), 'no host was quarantined after the restart');
    viewer.close();
  });
});
