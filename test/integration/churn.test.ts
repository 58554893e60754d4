// Churn: renderer nodes join, leave gracefully and crash at random (seeded)
// while a typist keeps typing. After every event R is restored on distinct
// hosts; at the end all replicas agree and nothing typed is lost.
import assert from 'node:assert/strict';
import { after, describe, it } from 'node:test';
import { NO_MODS } from '../../protocol/input.js';
import type { SessionInfo } from '../../protocol/session.js';
import type { WriterState } from '../../render/apps/writer/index.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { referenceState } from '../helpers/reference-render.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { liveWriterSession } from '../helpers/writer-session.js';
import { prng } from '../helpers/prng.js';

const R = 3;
const HOSTS = ['host-1', 'host-2', 'host-3', 'host-4', 'host-5'];
const EVENTS = Number(process.env.LOCKSTEP_CHURN_EVENTS ?? 8);

function atStrength(s: SessionInfo): boolean {
  const live = s.replicas.filter((r) => r.state === 'live');
  return live.length === R && new Set(live.map((r) => r.hostId)).size === R;
}

describe('churn', () => {
  let server: ServerProc;
  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('typing continues through random joins, leaves and crashes; R is restored; nothing is lost', async (t) => {
    const seed = Number(process.env.LOCKSTEP_CHURN_SEED ?? 20261125);
    const rand = prng(seed);
    // The typist draws from its own stream so the churn schedule depends on the seed alone.
    const typeRand = prng(seed ^ 0x5eed);
    server = await startServer({ env: { LOCKSTEP_SNAPSHOT_EVERY: '150' } });
    const up = new Map<string, Proc>();
    for (const h of HOSTS.slice(0, 4)) up.set(h, await startNode({ url: server.url, hostId: h }));
    const viewer = await TestViewer.connect(server.url);
    const { sessionId } = await liveWriterSession(viewer, server.url, {
      r: R,
      width: 480,
      height: 320,
      clientId: 'churn-typist',
      what: 'at strength',
      live: atStrength,
    });

    let typed = '';
    let typing = true;
    const alphabet = 'abcdefghijklmnopqrstuvwxyz ';
    const typist = (async () => {
      while (typing) {
        const ch = alphabet[Math.floor(typeRand() * alphabet.length)] ?? ' ';
        await viewer.request({
          type: 'input',
          sessionId,
          clientSeq: viewer.clientSeq++,
          event: { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS },
        });
        typed += ch;
        await new Promise((r) => setTimeout(r, 50));
      }
    })();

    const log: string[] = [];
    const restoreMs: number[] = [];
    for (let i = 0; i < EVENTS; i++) {
      await new Promise((r) => setTimeout(r, 500 + rand() * 1500));
      const down = HOSTS.filter((h) => !up.has(h));
      const upHosts = [...up.keys()];
      // Join when few are up, otherwise crash or leave one at random.
      let victim: string | undefined;
      const t0 = Date.now();
      const kind =
        upHosts.length <= R ? 'join' : down.length > 0 && rand() < 0.34 ? 'join' : rand() < 0.5 ? 'crash' : 'leave';
      if (kind === 'join') {
        const h = down[Math.floor(rand() * down.length)] ?? '';
        up.set(h, await startNode({ url: server.url, hostId: h }));
        log.push(`join ${h}`);
      } else {
        // Mostly hit hosts that serve the session: that is the churn that matters.
        const serving = (await getSession(server.url, sessionId)).replicas
          .map((r) => r.hostId)
          .filter((h) => up.has(h));
        const pool = serving.length > 0 && rand() < 0.8 ? serving : upHosts;
        const h = pool[Math.floor(rand() * pool.length)] ?? '';
        victim = h;
        const p = up.get(h);
        up.delete(h);
        await p?.kill(kind === 'crash' ? 'SIGKILL' : 'SIGTERM');
        log.push(`${kind} ${h}`);
      }
      const gone = victim;
      await waitFor(
        `R restored after "${log.at(-1)}"`,
        async () => {
          const s = await getSession(server.url, sessionId);
          return atStrength(s) && !s.replicas.some((r) => r.hostId === gone);
        },
        20_000,
        20,
      );
      restoreMs.push(Date.now() - t0);
    }
    typing = false;
    await typist;
    t.diagnostic(`seed ${seed}: ${log.join(', ')}`);
    t.diagnostic(`R restored (ms from the event, joins included): ${restoreMs.join(', ')}`);

    const final = await waitFor(
      'converged',
      async () => {
        const s = await getSession(server.url, sessionId);
        const live = s.replicas.filter((r) => r.state === 'live');
        return atStrength(s) && live.every((r) => r.appliedSeq === s.headSeq && r.stateHash === live[0]?.stateHash)
          ? s
          : undefined;
      },
      30_000,
    );
    assert.equal(final.headSeq, typed.length, 'every keystroke was logged exactly once');
    const state = (await referenceState(server.url, 'writer', 480, 320, sessionId)) as WriterState;
    assert.equal(state.text, typed, 'the document is exactly what was typed');
    viewer.close();
  });
});
