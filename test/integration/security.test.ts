// Access control end to end on a real server: owner tokens, share links with
// roles, nothing for unauthenticated clients, node join token + per-node
// credentials bound to their replicas, token rotation and revocation, request
// bounds, DTLS-SRTP-only media, and HTTPS with a certificate.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { io } from 'socket.io-client';
import { NO_MODS } from '../../protocol/input.js';
import type { IssuedToken } from '../../protocol/rest.js';
import { appCatalog } from '../../render/app-catalog.js';
import { authHeaders } from '../helpers/credentials.js';
import { RawNode } from '../helpers/node-client.js';
import { removeDir, ROOT, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { getSession, RequestFailed, TestViewer, waitFor } from '../helpers/viewer-client.js';

const key = (k: string) => ({
  type: 'key' as const,
  action: 'down' as const,
  key: k,
  code: '',
  text: k,
  mods: NO_MODS,
});

async function api(
  server: ServerProc,
  path: string,
  opts: { token?: string; method?: string; body?: unknown } = {},
): Promise<{ status: number; body: Record<string, unknown> }> {
  const res = await fetch(`${server.url}${path}`, {
    method: opts.method ?? 'GET',
    headers: {
      ...(opts.token === undefined
        ? authHeaders(server.url)
        : opts.token
          ? { authorization: `Bearer ${opts.token}` }
          : {}),
      ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: opts.body === undefined ? undefined : typeof opts.body === 'string' ? opts.body : JSON.stringify(opts.body),
  });
  const text = await res.text();
  let body: Record<string, unknown> = {};
  try {
    body = JSON.parse(text) as Record<string, unknown>;
  } catch {
    body = { text };
  }
  return { status: res.status, body };
}

async function refused(url: string, token: string): Promise<string> {
  const err = await TestViewer.connect(url, token).then(
    (v) => {
      v.close();
      return null;
    },
    (e: unknown) => e,
  );
  assert.ok(err instanceof Error, 'the connection was refused');
  return err.message;
}

async function failsWith(p: Promise<unknown>, code: string): Promise<void> {
  await assert.rejects(p, (err: unknown) => err instanceof RequestFailed && err.code === code);
}

describe('security: viewers, tokens and share links', () => {
  let server: ServerProc;
  let owner: TestViewer;
  let sessionId: string;
  let otherSessionId: string;

  before(async () => {
    // No renderer nodes: access control does not depend on them (inputs are sequenced regardless).
    server = await startServer();
    owner = await TestViewer.connect(server.url);
    sessionId = (await owner.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 })).session
      .sessionId;
    otherSessionId = (await owner.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 })).session
      .sessionId;
  });

  after(async () => {
    owner?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('an unauthenticated client gets nothing: no socket, no session list, no API', async () => {
    assert.match(await refused(server.url, ''), /unauthorized/);
    assert.match(await refused(server.url, 'lso_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA'), /unauthorized/);
    assert.match(await refused(server.url, 'x'.repeat(100_000)), /unauthorized/);
    // A non-string token (an object) is refused too.
    const s = io(`${server.url}/viewer`, {
      auth: { token: { $ne: null } },
      transports: ['websocket'],
      reconnection: false,
    });
    const err = await new Promise<Error>((resolve) => s.once('connect_error', resolve));
    s.close();
    assert.match(err.message, /unauthorized/);

    for (const path of [
      '/api/sessions',
      `/api/sessions/${sessionId}`,
      `/api/sessions/${sessionId}/log`,
      '/api/tokens',
    ]) {
      const res = await api(server, path, { token: '' });
      assert.equal(res.status, 401, path);
      assert.deepEqual(Object.keys(res.body), ['error']);
      assert.equal((res.body.error as { code: string }).code, 'unauthorized');
      const wrong = await api(server, path, { token: 'lso_wrongwrongwrongwrongwrongwrongwr' });
      assert.equal(wrong.status, 401, path);
    }
    // Health is public but reveals counts only; the viewer page holds no data.
    const health = await api(server, '/healthz', { token: '' });
    assert.equal(health.status, 200);
    assert.deepEqual(Object.keys(health.body).sort(), ['durableWrites', 'nodes', 'ok', 'sessions', 'store']);
    assert.equal(health.body.store, 'sqlite', 'the store kind, never its path');
    const page = await fetch(`${server.url}/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get('referrer-policy'), 'no-referrer');
  });

  it('REST takes the token as a bearer header or ?token=, and validates every parameter', async () => {
    const list = await api(server, '/api/sessions');
    assert.equal(list.status, 200);
    assert.equal((list.body.sessions as unknown[]).length, 2);
    const viaQuery = await fetch(`${server.url}/api/sessions?token=${server.ownerToken}`);
    assert.equal(viaQuery.status, 200);
    assert.equal((await api(server, `/api/sessions/${sessionId}/log?from=0`)).status, 400);
    assert.equal((await api(server, `/api/sessions/${sessionId}/log?from=5&to=2`)).status, 400);
    assert.equal((await api(server, `/api/sessions/${sessionId}/log?evil=1`)).status, 400);
    assert.equal((await api(server, '/api/sessions/..%2F..%2Fetc')).status, 400);
    assert.equal((await api(server, '/api/tokens/rotate', { method: 'POST', body: '{bad json' })).status, 400);
    assert.equal((await api(server, '/api/tokens/revoke', { method: 'POST', body: { id: 1 } })).status, 400);
    const big = await api(server, '/api/tokens/revoke', { method: 'POST', body: { id: 'x'.repeat(100_000) } });
    assert.equal(big.status, 413);
    assert.equal((big.body.error as { code: string }).code, 'too-large');
  });

  it('sessions belong to their owner: another owner sees none of them', async () => {
    const created = await api(server, '/api/owners', { method: 'POST', body: { owner: 'bob' } });
    assert.equal(created.status, 200);
    const bobToken = (created.body as unknown as IssuedToken).token;
    const bob = await TestViewer.connect(server.url, bobToken);
    try {
      assert.deepEqual((await bob.request({ type: 'sessions.list' })).sessions, []);
      await failsWith(bob.request({ type: 'session.join', sessionId, clientId: 'bob' }), 'not-found');
      await failsWith(bob.request({ type: 'sessions.close', sessionId }), 'not-found');
      await failsWith(bob.request({ type: 'share.create', sessionId, role: 'control' }), 'not-found');
      await failsWith(bob.request({ type: 'input', sessionId, clientSeq: 0, event: key('x') }), 'forbidden');
      assert.equal((await api(server, `/api/sessions/${sessionId}`, { token: bobToken })).status, 404);
      assert.equal((await api(server, `/api/sessions/${sessionId}/log`, { token: bobToken })).status, 404);
      // Bob's own session is invisible to the operator, and bob cannot create owners.
      const bobs = (await bob.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 })).session;
      assert.ok(!(await owner.request({ type: 'sessions.list' })).sessions.some((s) => s.sessionId === bobs.sessionId));
      const denied = await api(server, '/api/owners', { token: bobToken, method: 'POST', body: { owner: 'eve' } });
      assert.equal(denied.status, 403);
      // Sessions per owner are bounded (20).
      let quota: unknown = null;
      for (let i = 0; i < 25 && !quota; i++) {
        await bob.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2 }).catch((e: unknown) => {
          quota = e;
        });
      }
      assert.ok(quota instanceof RequestFailed && quota.code === 'forbidden' && /limit 20/.test(quota.message));
    } finally {
      bob.close();
    }
  });

  it('a view-only share link watches one session and can never send input', async () => {
    const link = await owner.request({ type: 'share.create', sessionId, role: 'view', ttlSeconds: 3600 });
    assert.match(link.token, /^lss_[A-Za-z0-9_-]{32}$/);
    assert.match(link.url, new RegExp(`/\\?session=${sessionId}&token=${link.token}$`));
    assert.ok(link.expiresAt > Date.now() + 3500_000 && link.expiresAt <= Date.now() + 3600_000);
    const watcher = await TestViewer.connect(server.url, link.token);
    try {
      const { sessions } = await watcher.request({ type: 'sessions.list' });
      assert.deepEqual(
        sessions.map((s) => s.sessionId),
        [sessionId],
      );
      await watcher.request({ type: 'session.join', sessionId, clientId: 'watcher' });
      await failsWith(watcher.request({ type: 'input', sessionId, clientSeq: 0, event: key('x') }), 'forbidden');
      await failsWith(
        watcher.request({ type: 'input', sessionId, clientSeq: 0, event: { type: 'paste', text: 'x' } }),
        'forbidden',
      );
      await failsWith(watcher.request({ type: 'sessions.create', app: 'writer' }), 'forbidden');
      await failsWith(watcher.request({ type: 'sessions.close', sessionId }), 'forbidden');
      await failsWith(watcher.request({ type: 'share.create', sessionId, role: 'control' }), 'forbidden');
      await failsWith(watcher.request({ type: 'session.join', sessionId: otherSessionId, clientId: 'w' }), 'not-found');
      assert.equal((await api(server, `/api/sessions/${otherSessionId}`, { token: link.token })).status, 404);
      assert.equal((await api(server, `/api/sessions/${sessionId}`, { token: link.token })).status, 200);
      assert.equal((await api(server, '/api/tokens', { token: link.token })).status, 403);
      // Nothing it sent reached the log.
      const info = await getSession(server.url, sessionId);
      assert.equal(info.headSeq, 0);
    } finally {
      watcher.close();
    }
  });

  it('a control share link types into its session; revoking it drops the connection', async () => {
    const link = await owner.request({ type: 'share.create', sessionId, role: 'control' });
    const guest = await TestViewer.connect(server.url, link.token);
    await guest.request({ type: 'session.join', sessionId, clientId: 'guest' });
    const ack = await guest.request({ type: 'input', sessionId, clientSeq: 0, event: key('g') });
    assert.equal(ack.seq, 1);
    const disconnected = new Promise<string>((resolve) => guest.socket.once('disconnect', resolve));
    const revoked = await api(server, '/api/tokens/revoke', { method: 'POST', body: { id: link.id } });
    assert.equal(revoked.status, 200);
    assert.equal(revoked.body.dropped, 1);
    assert.equal(await disconnected, 'io server disconnect');
    assert.match(await refused(server.url, link.token), /unauthorized/);
    // Share links cannot be created for ever: the TTL is bounded.
    const res = await owner.raw({ type: 'share.create', sessionId, role: 'view', ttlSeconds: 31 * 24 * 3600 });
    assert.equal(res.ok, false);
  });

  it('inputs, pastes and requests are bounded per viewer with typed errors', async () => {
    await owner.request({ type: 'session.join', sessionId, clientId: 'flood' });
    const big = await owner.raw({
      type: 'input',
      sessionId,
      clientSeq: 0,
      event: { type: 'paste', text: 'x'.repeat(64 * 1024 + 1) },
    });
    assert.equal(big.ok, false);
    assert.equal(big.ok ? '' : big.error.code, 'bad-request');
    // 700 inputs at once: the 400/s bucket refuses the excess, typed.
    const results = await Promise.all(
      Array.from({ length: 700 }, (_, i) => owner.raw({ type: 'input', sessionId, clientSeq: i, event: key('f') })),
    );
    const codes = new Set(results.map((r) => (r.ok ? 'ok' : r.error.code)));
    assert.ok(codes.has('ok'));
    assert.ok(codes.has('rate-limited'), [...codes].join(','));
    for (const c of codes) assert.match(c, /^(ok|rate-limited|conflict)$/);
  });

  it('rotating the owner token revokes the old one and drops its connections', async () => {
    const viewer = await TestViewer.connect(server.url);
    const dropped = new Promise<string>((resolve) => viewer.socket.once('disconnect', resolve));
    const rotated = await api(server, '/api/tokens/rotate', { method: 'POST', body: {} });
    assert.equal(rotated.status, 200);
    const next = (rotated.body as unknown as IssuedToken).token;
    assert.match(next, /^lso_/);
    assert.equal(await dropped, 'io server disconnect');
    assert.equal((await api(server, '/api/sessions')).status, 401, 'old token is dead');
    assert.equal((await api(server, '/api/sessions', { token: next })).status, 200);
    assert.match(await refused(server.url, server.ownerToken), /unauthorized/);
    const again = await TestViewer.connect(server.url, next);
    assert.equal((await again.request({ type: 'sessions.list' })).sessions.length, 2);
    again.close();
    owner.close();
  });
});

describe('security: owner token bootstrap', () => {
  it('a server without LOCKSTEP_OWNER_TOKEN prints a generated one once, and not again', async () => {
    const server = await startServer({ env: { LOCKSTEP_OWNER_TOKEN: '' } });
    try {
      const printed = /^LOCKSTEP_OWNER_TOKEN=(\S+)$/m.exec(server.output())?.[1];
      assert.match(printed ?? '', /^lso_[A-Za-z0-9_-]{32}$/);
      assert.equal(server.ownerToken, printed);
      const v = await TestViewer.connect(server.url, printed);
      v.close();
      // Only the digest is on disk.
      const db = readFileSync(join(server.dataDir, 'lockstep.sqlite'));
      const wal = readdirSync(server.dataDir)
        .filter((f) => f.startsWith('lockstep.sqlite'))
        .map((f) => readFileSync(join(server.dataDir, f)).toString('latin1'))
        .join('');
      assert.ok(!db.toString('latin1').includes(printed ?? '?') && !wal.includes(printed ?? '?'));
      const dataDir = server.dataDir;
      const port = Number(new URL(server.url).port);
      await server.kill('SIGTERM');
      const again = await startServer({ dataDir, port, env: { LOCKSTEP_OWNER_TOKEN: '' } });
      assert.doesNotMatch(again.output(), /^LOCKSTEP_OWNER_TOKEN=/m);
      const v2 = await TestViewer.connect(again.url, printed);
      v2.close();
    } finally {
      await stopAll();
      removeDir(server.dataDir);
    }
  });

  it('a shared cluster join token is refused at start unless LOCKSTEP_INSECURE_DEV=1', async () => {
    const shared = 'shared-join-token-0123456789abcdef';
    await assert.rejects(startServer({ env: { LOCKSTEP_JOIN_TOKEN: shared } }), /development mode/);
    const dev = await startServer({ env: { LOCKSTEP_JOIN_TOKEN: shared, LOCKSTEP_INSECURE_DEV: '1' } });
    await stopAll();
    removeDir(dev.dataDir);
  });
});

describe('security: renderer nodes', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  let sessionId: string;
  let realReplica: string;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    viewer = await TestViewer.connect(server.url);
    sessionId = (
      await viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2, width: 320, height: 240 })
    ).session.sessionId;
    await viewer.request({ type: 'session.join', sessionId, clientId: 'typist' });
    const s = await waitFor('live replica', async () => {
      const info = await getSession(server.url, sessionId);
      return info.replicas.find((r) => r.state === 'live');
    });
    realReplica = s.replicaId;
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('a renderer without its host’s join token cannot join', async () => {
    await assert.rejects(
      startNode({ url: server.url, hostId: 'intruder', env: { LOCKSTEP_JOIN_TOKEN: 'not-the-join-token-0000000' } }),
      /unauthorized|exited/,
    );
    await assert.rejects(RawNode.connect(server.url, ''), /unauthorized/);
    await assert.rejects(
      RawNode.connect(server.url, server.ownerToken),
      /unauthorized/,
      'an owner token is no node credential',
    );
  });

  it('a node gets its own credential, bound to its node id, and touches only its own replicas', async () => {
    const evil = await RawNode.connect(server.url, await server.hostToken('host-evil'));
    // Taking over a live node's id with the join token is refused.
    const takeover = await evil.raw({
      type: 'node.register',
      nodeId: 'host-a',
      hostId: 'host-a',
      apps: appCatalog(),
      capacity: { cores: 1, maxReplicas: 4 },
    });
    assert.equal(takeover.ok ? '' : takeover.error.code, 'conflict');
    const reg = await evil.raw({
      type: 'node.register',
      nodeId: 'evil',
      hostId: 'evil-host',
      apps: [],
      capacity: { cores: 1, maxReplicas: 0 },
    });
    assert.ok(reg.ok);
    const credential = (reg.data as { credential?: string }).credential ?? '';
    assert.match(credential, /^lsn_[A-Za-z0-9_-]{32}$/);

    for (const msg of [
      { type: 'transport.create', replicaId: realReplica },
      { type: 'inputs.fetch', replicaId: realReplica, fromSeq: 1, toSeq: 100 },
      { type: 'snapshot.fetch', replicaId: realReplica },
      { type: 'replica.status', replicaId: realReplica, appliedSeq: 0, stateHash: '0'.repeat(16), framesSent: 0 },
      { type: 'replica.snapshot', replicaId: realReplica, seq: 0, stateHash: '0'.repeat(16), data: '' },
      {
        type: 'transport.connect',
        transportId: 'not-mine',
        dtlsParameters: { role: 'client', fingerprints: [{ algorithm: 'sha-256', value: 'AA' }] },
      },
    ]) {
      const res = await evil.raw(msg);
      assert.equal(res.ok, false, msg.type);
      assert.equal(res.ok ? '' : res.error.code, 'forbidden', msg.type);
    }
    // It never receives another session's input.
    await viewer.type(sessionId, 'secret');
    await new Promise((r) => setTimeout(r, 500));
    assert.deepEqual(
      evil.notifications.filter((n) => n.type === 'inputs'),
      [],
    );
    evil.close();

    // The credential reconnects as that node only.
    const again = await RawNode.connect(server.url, credential);
    const other = await again.raw({
      type: 'node.register',
      nodeId: 'someone-else',
      hostId: 'x',
      apps: [],
      capacity: { cores: 1, maxReplicas: 0 },
    });
    assert.equal(other.ok ? '' : other.error.code, 'forbidden');
    const same = await again.raw({
      type: 'node.register',
      nodeId: 'evil',
      hostId: 'evil-host',
      apps: [],
      capacity: { cores: 1, maxReplicas: 0 },
    });
    assert.ok(same.ok);
    assert.equal((same.data as { credential?: string }).credential, undefined, 'no new credential on reconnect');

    // The operator revokes it: the live connection drops and it cannot come back with it.
    const nodes = await api(server, '/api/nodes');
    assert.equal(nodes.status, 200);
    const cred = (nodes.body.credentials as Array<{ id: string; nodeId: string; connected: boolean }>).find(
      (c) => c.nodeId === 'evil',
    );
    assert.ok(cred?.connected);
    const dropped = new Promise<string>((resolve) => again.socket.once('disconnect', resolve));
    const revoked = await api(server, '/api/tokens/revoke', { method: 'POST', body: { id: cred.id } });
    assert.equal(revoked.status, 200);
    assert.equal(await dropped, 'io server disconnect');
    await assert.rejects(RawNode.connect(server.url, credential), /unauthorized/);
    // Only the operator sees node credentials.
    const bob = await api(server, '/api/owners', { method: 'POST', body: { owner: 'bob' } });
    const bobToken = (bob.body as unknown as IssuedToken).token;
    assert.equal((await api(server, '/api/nodes', { token: bobToken })).status, 403);
    assert.equal(
      (await api(server, '/api/tokens/revoke', { token: bobToken, method: 'POST', body: { id: cred.id } })).status,
      404,
    );
  });

  it('HTTP-level: the node namespace refuses a viewer, and the viewer namespace refuses a node credential', async () => {
    const joinToken = await server.hostToken('host-evil2');
    const evil = await RawNode.connect(server.url, joinToken);
    const reg = await evil.raw({
      type: 'node.register',
      nodeId: 'evil2',
      hostId: 'evil2',
      apps: [],
      capacity: { cores: 1, maxReplicas: 0 },
    });
    const credential = reg.ok ? ((reg.data as { credential?: string }).credential ?? '') : '';
    evil.close();
    assert.match(await refused(server.url, credential), /unauthorized/);
    assert.match(await refused(server.url, joinToken), /unauthorized/);
  });
});

describe('security: media is DTLS-SRTP only', () => {
  it('no code path creates a plain RTP, pipe or direct transport', () => {
    const files: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const p = join(dir, name);
        if (statSync(p).isDirectory()) walk(p);
        else if (p.endsWith('.ts')) files.push(p);
      }
    };
    walk(join(ROOT, 'server'));
    walk(join(ROOT, 'render'));
    for (const f of files) {
      const src = readFileSync(f, 'utf8');
      assert.doesNotMatch(src, /create(Plain|Pipe|Direct)Transport|PlainTransport|comedia|enableSrtp/, f);
    }
  });

  it('every transport offered to viewers and nodes is a WebRtcTransport with DTLS, and the node completes DTLS', async () => {
    const server = await startServer();
    try {
      await startNode({ url: server.url, hostId: 'host-m' });
      const v = await TestViewer.connect(server.url);
      const { session } = await v.request({
        type: 'sessions.create',
        app: 'writer',
        replicationFactor: 2,
        width: 320,
        height: 240,
      });
      await v.request({ type: 'session.join', sessionId: session.sessionId, clientId: 'media' });
      const t = await v.request({ type: 'transport.create', sessionId: session.sessionId });
      const dtls = t.dtlsParameters as { role: string; fingerprints: Array<{ algorithm: string; value: string }> };
      assert.ok(['auto', 'client', 'server'].includes(dtls.role));
      assert.ok(
        dtls.fingerprints.some((f) => f.algorithm === 'sha-256' && /^[0-9A-F]{2}(:[0-9A-F]{2}){31}$/.test(f.value)),
      );
      const ice = t.iceParameters as { usernameFragment: string; password: string };
      assert.ok(ice.usernameFragment && ice.password);
      for (const c of t.iceCandidates as Array<{ protocol: string }>) assert.match(c.protocol, /^(udp|tcp)$/);

      const stats = await waitFor(
        'node transport DTLS-connected',
        async () => {
          const res = await api(server, `/api/sessions/${session.sessionId}/stats`);
          const transports = res.body.transports as Array<{ class: string; side: string; dtlsState: string }>;
          return transports.some((x) => x.side === 'node' && x.dtlsState === 'connected') ? transports : undefined;
        },
        30_000,
      );
      assert.ok(
        stats.some((x) => x.side === 'viewer'),
        'the viewer transport is listed',
      );
      for (const x of stats) assert.equal(x.class, 'WebRtcTransport');
      v.close();
    } finally {
      await stopAll();
      removeDir(server.dataDir);
    }
  });
});

describe('security: HTTPS', () => {
  it('serves the API, the viewer socket and renderer nodes over TLS with a certificate path', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'lockstep-tls-'));
    const cert = join(dir, 'cert.pem');
    const keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-subj',
        '/CN=localhost',
        '-days',
        '1',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyFile,
        '-out',
        cert,
      ],
      { stdio: 'ignore' },
    );
    const ca = readFileSync(cert);
    const server = await startServer({ env: { LOCKSTEP_TLS_CERT: cert, LOCKSTEP_TLS_KEY: keyFile } });
    try {
      assert.match(server.url, /^https:\/\//);
      const get = (path: string, headers: Record<string, string> = {}) =>
        new Promise<{ status: number; body: string }>((resolve, reject) => {
          const req = httpsRequest(`${server.url}${path}`, { ca, headers }, (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
          });
          req.on('error', reject);
          req.end();
        });
      const health = await get('/healthz');
      assert.equal(health.status, 200);
      assert.equal((JSON.parse(health.body) as { ok: boolean }).ok, true);
      assert.equal((await get('/api/sessions')).status, 401);
      assert.equal((await get('/api/sessions', authHeaders(server.url))).status, 200);
      // Without trusting the certificate the client refuses: it really is TLS.
      await assert.rejects(fetch(`${server.url}/healthz`));
      await assert.rejects(fetch(server.url.replace('https:', 'http:') + '/healthz'));

      // The viewer socket over wss, and a renderer node that trusts the CA.
      const s = io(`${server.url}/viewer`, {
        auth: { token: server.ownerToken },
        transports: ['websocket'],
        ca: ca.toString(),
        reconnection: false,
      });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', () => resolve());
        s.once('connect_error', reject);
      });
      s.close();
      writeFileSync(join(dir, 'ca.pem'), ca);
      // The operator admits the host over HTTPS too (the launcher's own fetch does not trust this CA).
      const admitted = await new Promise<string>((resolve, reject) => {
        const req = httpsRequest(
          `${server.url}/api/hosts`,
          { ca, method: 'POST', headers: { ...authHeaders(server.url), 'content-type': 'application/json' } },
          (res) => {
            let body = '';
            res.on('data', (d: Buffer) => (body += d.toString()));
            res.on('end', () => resolve((JSON.parse(body) as { token: string }).token));
          },
        );
        req.on('error', reject);
        req.end(JSON.stringify({ host: 'tls-node' }));
      });
      await startNode({
        url: server.url,
        hostId: 'tls-node',
        env: { NODE_EXTRA_CA_CERTS: join(dir, 'ca.pem'), LOCKSTEP_JOIN_TOKEN: admitted },
      });
      const health2 = JSON.parse((await get('/healthz')).body) as { nodes: number };
      assert.equal(health2.nodes, 1);
    } finally {
      await stopAll();
      removeDir(server.dataDir);
      removeDir(dir);
    }
  });
});
