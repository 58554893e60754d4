// Attacks by parties that hold some credential, against a real server: a
// control share link reusing the owner's client id (the owner's keystrokes
// must not vanish as "duplicates"), a page on another origin opening a
// websocket, the default socket.io namespace, a missing Content-Security-
// Policy, a full disk (/healthz must say so while durable writes fail), and a
// database with bytes scribbled in the middle (the start must refuse it).
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { after, describe, it } from 'node:test';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { HealthReportSchema } from '../../protocol/rest.js';
import { appContentHash } from '../../render/app-catalog.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';
import { authHeaders } from '../helpers/credentials.js';
import { RawNode } from '../helpers/node-client.js';
import { removeDir, ROOT, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { fetchLog } from '../helpers/reference-render.js';
import { seedSession } from '../helpers/seed-session.js';
import { tryConnect } from '../helpers/socket-probe.js';
import { makeTmpDir } from '../helpers/tmpdir.js';
import { getSession, RequestFailed, TestViewer, waitFor } from '../helpers/viewer-client.js';

const run = promisify(execFile);
const key = (ch: string): InputEvent => ({ type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS });

describe('hostile parties', () => {
  const servers: ServerProc[] = [];
  const cleanups: (() => void)[] = [];
  after(async () => {
    for (const f of cleanups) f();
    await stopAll();
    for (const s of servers) removeDir(s.dataDir);
  });

  it('a control share link cannot make the owner’s inputs look like duplicates; it cannot read the log', async () => {
    const server = await startServer();
    servers.push(server);
    const owner = await TestViewer.connect(server.url);
    const { session } = await owner.request({ type: 'sessions.create', app: 'writer', width: 320, height: 240 });
    const sessionId = session.sessionId;
    await owner.request({ type: 'session.join', sessionId, clientId: 'owner-tab' });
    for (const ch of 'abc')
      await owner.request({ type: 'input', sessionId, clientSeq: owner.clientSeq++, event: key(ch) });

    const share = await owner.request({ type: 'share.create', sessionId, role: 'control' });
    const intruder = await TestViewer.connect(server.url, share.token);
    const joined = await intruder.request({ type: 'session.join', sessionId, clientId: 'owner-tab' });
    assert.equal(joined.lastClientSeq, -1, 'the link does not see the owner’s client seqs');
    // The owner's next client seq, sent first by the link: its own input, in its own space.
    for (const clientSeq of [0, 1, 2, 3]) {
      await intruder.request({ type: 'input', sessionId, clientSeq, event: key('X') });
    }
    const ack = await owner.request({ type: 'input', sessionId, clientSeq: owner.clientSeq++, event: key('d') });
    assert.equal(ack.duplicate, false, 'the owner’s real input is logged, not answered as a duplicate');
    const log = await fetchLog(server.url, sessionId);
    const mine = log.filter((i) => i.clientId.endsWith(':owner-tab') && i.event.type === 'key');
    assert.deepEqual(
      mine.filter((i) => i.event.type === 'key' && i.event.text !== 'X').map((i) => (i.event as { text: string }).text),
      ['a', 'b', 'c', 'd'],
    );
    assert.equal(new Set(mine.map((i) => i.clientId)).size, 2, 'owner and link write into different spaces');

    // The durable record is the owner's: a share link gets 403 for the log and snapshots.
    for (const path of ['log', 'snapshot']) {
      const res = await fetch(`${server.url}/api/sessions/${sessionId}/${path}`, {
        headers: authHeaders(server.url, share.token),
      });
      assert.equal(res.status, 403, `${path} refused to a share link`);
    }
    intruder.close();
    owner.close();

    // After a server restart the owner's inputs are all there, and resending one is a duplicate, not lost or doubled.
    const port = Number(new URL(server.url).port);
    await server.kill('SIGKILL');
    const again = await startServer({ dataDir: server.dataDir, port });
    servers.push(again);
    const after = (await fetchLog(again.url, sessionId)).filter((i) => i.clientId.endsWith(':owner-tab'));
    assert.deepEqual(
      after.map((i) => [i.clientId, i.clientSeq]),
      mine.map((i) => [i.clientId, i.clientSeq]),
    );
    const back = await TestViewer.connect(again.url);
    const rejoined = await back.request({ type: 'session.join', sessionId, clientId: 'owner-tab' });
    assert.equal(rejoined.lastClientSeq, 3, 'the owner’s own client seqs, not the link’s');
    const resend = await back.request({ type: 'input', sessionId, clientSeq: 3, event: key('d') });
    assert.equal(resend.duplicate, true);
    assert.equal(resend.seq, ack.seq);
    back.close();
  });

  it('three nodes on one join token hold one replica, within the operator’s cap; revoking the host re-places it', async () => {
    const server = await startServer();
    servers.push(server);
    for (const h of ['host-a', 'host-b', 'host-c']) await startNode({ url: server.url, hostId: h });
    // The operator admits pc-evil with a cap of one replica for the whole host.
    const admit = await fetch(`${server.url}/api/hosts`, {
      method: 'POST',
      headers: { ...authHeaders(server.url), 'content-type': 'application/json' },
      body: JSON.stringify({ host: 'pc-evil', maxReplicas: 1 }),
    });
    assert.equal(admit.status, 200);
    const { token } = (await admit.json()) as { token: string };
    // One party, one token, three nodes: each claims another host (one a real host's id), no load, room for 100.
    const evil = await Promise.all(['host-a', 'evil-2', 'evil-3'].map(() => RawNode.connect(server.url, token)));
    const apps = [{ name: 'writer', hash: appContentHash('writer') }];
    const registered = await Promise.all(
      evil.map((n, i) =>
        n.raw({
          type: 'node.register',
          nodeId: `evil-${i + 1}`,
          hostId: ['host-a', 'evil-2', 'evil-3'][i],
          apps,
          capacity: { cores: 64, maxReplicas: 100 },
        }),
      ),
    );
    for (const r of registered) assert.deepEqual(r.ok && (r.data as { hostId: string }).hostId, 'pc-evil');
    const beat = setInterval(() => {
      for (const n of evil) void n.raw({ type: 'node.heartbeat', load: 0 }).catch(() => undefined);
    }, 500);
    cleanups.push(() => clearInterval(beat));

    const owner = await TestViewer.connect(server.url);
    const created = [];
    for (let i = 0; i < 2; i++) {
      created.push(
        (await owner.request({ type: 'sessions.create', app: 'writer', replicationFactor: 3, width: 320, height: 240 }))
          .session,
      );
    }
    const hostsOf = async (sessionId: string) =>
      (await getSession(server.url, sessionId)).replicas.map((r) => r.hostId).sort();
    for (const s of created) {
      const hosts = await waitFor('3 replicas placed', async () => {
        const h = await hostsOf(s.sessionId);
        return h.length === 3 ? h : undefined;
      });
      assert.ok(hosts.filter((h) => h === 'pc-evil').length <= 1, `one replica per join token: ${hosts.join(',')}`);
      assert.equal(new Set(hosts).size, 3);
    }
    const evilReplicas = evil.flatMap((n) => n.notifications.filter((x) => x.type === 'replica.create'));
    assert.equal(evilReplicas.length, 1, 'the host-wide cap of one replica holds across its three nodes');

    // The operator lists the host, then revokes it: its nodes drop and its replica moves to an honest host.
    const listed = (await (await fetch(`${server.url}/api/hosts`, { headers: authHeaders(server.url) })).json()) as {
      hosts: { hostId: string; nodes: string[] }[];
    };
    assert.deepEqual(listed.hosts.find((h) => h.hostId === 'pc-evil')?.nodes.sort(), ['evil-1', 'evil-2', 'evil-3']);
    const revoke = await fetch(`${server.url}/api/hosts/revoke`, {
      method: 'POST',
      headers: { ...authHeaders(server.url), 'content-type': 'application/json' },
      body: JSON.stringify({ host: 'pc-evil' }),
    });
    assert.equal(revoke.status, 200);
    await waitFor('the evil nodes dropped', () => evil.every((n) => !n.socket.connected));
    for (const s of created) {
      await waitFor('re-placed on honest hosts', async () => {
        const h = await hostsOf(s.sessionId);
        return h.length === 3 && !h.includes('pc-evil');
      });
    }
    await assert.rejects(RawNode.connect(server.url, token), /unauthorized/, 'the revoked token admits no one');
    owner.close();
  });

  it('websockets from another origin need a valid token, malformed origins and the default namespace are refused; every page carries a CSP', async () => {
    const server = await startServer();
    servers.push(server);
    const token = server.ownerToken;
    // Another page has no one's token but its own (tokens are never cookies: origin-rule.ts).
    const evil = await tryConnect(`${server.url}/viewer`, {
      transports: ['polling'],
      extraHeaders: { origin: 'http://evil.example' },
    });
    assert.match(evil, /unauthorized/i, `another origin without a token refused (got ${evil})`);
    const evilForged = await tryConnect(`${server.url}/viewer`, {
      auth: { token: 'lst_' + 'x'.repeat(40) },
      transports: ['polling'],
      extraHeaders: { origin: 'http://evil.example' },
    });
    assert.match(evilForged, /unauthorized/i, `another origin with a made-up token refused (got ${evilForged})`);
    const evilOwn = await tryConnect(`${server.url}/viewer`, {
      auth: { token },
      transports: ['polling'],
      extraHeaders: { origin: 'http://evil.example' },
    });
    assert.equal(evilOwn, 'connected', 'a token its holder presents works from any page, as from curl');
    const malformed = await tryConnect(`${server.url}/viewer`, {
      auth: { token },
      transports: ['polling'],
      extraHeaders: { origin: 'null' },
    });
    assert.match(malformed, /xhr poll error|forbidden|origin/i, `a malformed Origin refused (got ${malformed})`);
    const same = await tryConnect(`${server.url}/viewer`, {
      auth: { token },
      transports: ['polling'],
      extraHeaders: { origin: server.url },
    });
    assert.equal(same, 'connected', 'the server’s own origin connects');
    const noOrigin = await tryConnect(`${server.url}/viewer`, { auth: { token }, transports: ['websocket'] });
    assert.equal(noOrigin, 'connected', 'non-browser clients (no Origin) are judged by their token');
    const root = await tryConnect(server.url, { auth: { token }, transports: ['websocket'] });
    assert.match(root, /forbidden/, 'the default namespace accepts no one');
    await waitFor('the refusal logged', () => server.output().includes('websocket refused'));

    for (const path of ['/', '/viewer.js', '/healthz']) {
      const res = await fetch(`${server.url}${path}`);
      const csp = res.headers.get('content-security-policy') ?? '';
      assert.match(csp, /script-src 'self'(;|$)/, `${path} CSP: scripts only from self`);
      assert.doesNotMatch(csp, /unsafe-inline|unsafe-eval/, `${path} CSP allows no inline script`);
      assert.match(csp, /frame-ancestors 'none'/);
    }
  });

  it('/healthz is not ok while durable writes fail on a full disk, and recovers by itself', async (t) => {
    if (process.getuid?.() !== 0) {
      t.skip('needs root to mount a small tmpfs as the full disk');
      return;
    }
    const mount = mkdtempSync(join(tmpdir(), 'lockstep-full-disk-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=6m', 'tmpfs', mount]);
    t.after(async () => {
      await stopAll();
      await run('umount', ['-l', mount]).catch(() => undefined);
      rmSync(mount, { recursive: true, force: true });
    });
    const server = await startServer({ dataDir: join(mount, 'data') });
    const v = await TestViewer.connect(server.url);
    const { session } = await v.request({ type: 'sessions.create', app: 'writer', width: 320, height: 240 });
    const sessionId = session.sessionId;
    await v.request({ type: 'session.join', sessionId, clientId: 'typist' });
    const acked: number[] = [];
    const send = async (ch: string): Promise<string> => {
      const clientSeq = v.clientSeq;
      try {
        await v.request({ type: 'input', sessionId, clientSeq, event: key(ch) });
        acked.push(clientSeq);
        v.clientSeq++;
        return 'acked';
      } catch (err) {
        if (err instanceof RequestFailed) return err.code;
        throw err;
      }
    };
    for (const ch of 'before') assert.equal(await send(ch), 'acked');
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);

    // Fill the disk.
    const filler = join(mount, 'filler');
    const fd = openSync(filler, 'w');
    const chunk = Buffer.alloc(64 * 1024, 1);
    try {
      for (;;) writeSync(fd, chunk);
    } catch {
      // ENOSPC: full.
    } finally {
      closeSync(fd);
    }
    const refusals = new Set<string>();
    for (let i = 0; i < 50 && refusals.size === 0; i++) {
      const r = await send(String(i % 10));
      if (r !== 'acked') refusals.add(r);
    }
    assert.deepEqual([...refusals], ['unavailable'], 'inputs are refused with a typed error once writes fail');
    const sick = await fetch(`${server.url}/healthz`);
    assert.equal(sick.status, 503);
    const body = HealthReportSchema.parse(await sick.json());
    assert.equal(body.ok, false);
    assert.match(body.reason ?? '', /durable writes failing since/);
    assert.equal(body.durableWrites.ok, false);
    assert.ok(!body.durableWrites.ok && Date.parse(body.durableWrites.failingSince ?? '') > 0, 'says since when');
    const metrics = await (await fetch(`${server.url}/metrics`, { headers: authHeaders(server.url) })).text();
    assert.match(metrics, /lockstep_sequencer_flush_failures_total [1-9]/);
    assert.match(metrics, /lockstep_durable_writes_ok 0/);

    // Space again: the next input is written and health comes back without a restart.
    rmSync(filler);
    assert.equal(await waitFor('an input acknowledged again', async () => (await send('y')) === 'acked'), true);
    assert.equal((await fetch(`${server.url}/healthz`)).status, 200);
    // Exactly the acknowledged inputs are in the log.
    const log = await fetchLog(server.url, sessionId);
    assert.deepEqual(
      log.filter((i) => i.clientId.endsWith(':typist')).map((i) => i.clientSeq),
      acked,
    );
    v.close();
    await server.kill('SIGKILL');
  });

  it('a database with bytes scribbled in the middle stops the start with a clear message; db check and backup', async (t) => {
    const dataDir = makeTmpDir(t);
    const file = await seedSession(dataDir, {
      id: 's-scribbled',
      width: 320,
      height: 240,
      events: Array.from({ length: 3000 }, (_, i) => key(String.fromCharCode(97 + (i % 26)))),
    });
    const lockstep = (args: string[]) =>
      run(process.execPath, ['--import', 'tsx', join(ROOT, 'bin/lockstep.ts'), ...args], { cwd: ROOT }).then(
        (r) => ({ code: 0, out: r.stdout }),
        (err: { code?: number; stdout?: string; stderr?: string }) => ({
          code: err.code ?? -1,
          out: `${err.stdout ?? ''}${err.stderr ?? ''}`,
        }),
      );

    // Intact: check passes, backup makes a checked copy holding the same log.
    const ok = await lockstep(['db', 'check', '--data-dir', dataDir]);
    assert.equal(ok.code, 0, ok.out);
    assert.match(ok.out, /ok/);
    const copy = join(tmpdir(), `lockstep-backup-${process.pid}-${Date.now()}.sqlite`);
    t.after(() => rmSync(copy, { force: true }));
    const backup = await lockstep(['db', 'backup', copy, '--data-dir', dataDir]);
    assert.equal(backup.code, 0, backup.out);
    const restored = SqliteInputLog.openFile(copy);
    assert.equal(await restored.headSeq('s-scribbled'), 3000);
    await restored.close();

    // Scribble over one page in the middle of the file.
    const size = statSync(file).size;
    const page = 4096;
    const offset = Math.floor(size / page / 2) * page;
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(page, 0xa5), 0, page, offset);
    closeSync(fd);
    assert.notDeepEqual(readFileSync(file).subarray(offset, offset + 16), Buffer.alloc(16));

    const start = await startServer({ dataDir }).then(
      () => 'started',
      (err: Error) => err.message,
    );
    assert.match(start, /exited/, 'the server refuses to start');
    assert.match(start, /is damaged/);
    assert.ok(start.includes(file), 'the message names the file');
    assert.match(start, /db backup/, 'and says what to do');
    const bad = await lockstep(['db', 'check', '--data-dir', dataDir]);
    assert.equal(bad.code, 2, bad.out);
    assert.match(bad.out, /DAMAGED/);
  });
});
