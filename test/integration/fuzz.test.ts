// Thousands of random and malformed messages at the server's sockets (/viewer
// authenticated and not, /node with the join token, unknown events, raw
// engine.io garbage) and at a renderer node's socket (through a fake server):
// nothing crashes, every request gets a typed answer, memory stays bounded and
// a real session keeps working afterwards.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, it } from 'node:test';
import { io, type Socket } from 'socket.io-client';
import { ERROR_CODES, type Result } from '../../protocol/errors.js';
import { appContentHash } from '../../render/app-catalog.js';
import { FakeNodeServer, registerOnly } from '../helpers/fake-node-server.js';
import { RawNode } from '../helpers/node-client.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import {
  deepNesting,
  hostileNodeNotifications,
  hostileNodeRequests,
  hostileViewerRequests,
  randomString,
  randomValue,
  seededRandom,
  type Rnd,
} from '../helpers/fuzz-values.js';
import { tryConnect } from '../helpers/socket-probe.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const PER_NAMESPACE = 5000;
/** Each fuzzing socket stays within its own per-socket request budget, so handlers (not the limiter) see most messages. */
const SOCKETS = 10;
const KNOWN = new Set<string>(ERROR_CODES);

function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}

function alive(p: Proc): boolean {
  return p.child.exitCode === null && p.child.signalCode === null;
}

interface Tally {
  ok: number;
  codes: Map<string, number>;
  unknown: unknown[];
}

function tally(results: Result<unknown>[]): Tally {
  const t: Tally = { ok: 0, codes: new Map(), unknown: [] };
  for (const r of results) {
    if (r.ok) t.ok++;
    else {
      t.codes.set(r.error.code, (t.codes.get(r.error.code) ?? 0) + 1);
      if (!KNOWN.has(r.error.code) || typeof r.error.message !== 'string') t.unknown.push(r);
    }
  }
  return t;
}

function describeTally(t: Tally): string {
  return `ok ${t.ok}, ${[...t.codes].map(([c, n]) => `${c} ${n}`).join(', ')}`;
}

/** Sends `msgs` over `send` with bounded concurrency; every one must be answered. */
async function blast(msgs: unknown[], send: (m: unknown) => Promise<Result<unknown>>): Promise<Result<unknown>[]> {
  const out: Result<unknown>[] = [];
  const BATCH = 100;
  for (let i = 0; i < msgs.length; i += BATCH) out.push(...(await Promise.all(msgs.slice(i, i + BATCH).map(send))));
  return out;
}

function messages(rnd: Rnd, n: number, hostile: unknown[]): unknown[] {
  const out: unknown[] = [...hostile];
  while (out.length < n) out.push(rnd() < 0.02 ? deepNesting(50 + Math.floor(rnd() * 400)) : randomValue(rnd, 0));
  return out;
}

describe('fuzz: the server and a renderer under random and malformed messages', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  let sessionId: string;
  let replicaId: string;
  let rssStart = 0;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-f' });
    viewer = await TestViewer.connect(server.url);
    sessionId = (
      await viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2, width: 320, height: 240 })
    ).session.sessionId;
    await viewer.request({ type: 'session.join', sessionId, clientId: 'fuzz-typist' });
    await viewer.type(sessionId, 'before');
    const live = await waitFor('live replica', async () => {
      const s = await getSession(server.url, sessionId);
      return s.replicas.find((r) => r.state === 'live' && r.appliedSeq >= s.headSeq);
    });
    replicaId = live.replicaId;
    rssStart = rssBytes(server.child.pid ?? 0);
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it(`${PER_NAMESPACE} random requests on /viewer (authenticated) all get typed answers`, async (t0) => {
    const rnd = seededRandom(1);
    const msgs = messages(rnd, PER_NAMESPACE, hostileViewerRequests(sessionId));
    const sockets = await Promise.all(Array.from({ length: SOCKETS }, () => TestViewer.connect(server.url)));
    const results: Result<unknown>[] = [];
    const per = Math.ceil(msgs.length / SOCKETS);
    await Promise.all(
      sockets.map(async (s, i) => {
        results.push(...(await blast(msgs.slice(i * per, (i + 1) * per), (m) => s.raw(m, 20_000))));
      }),
    );
    for (const s of sockets) s.close();
    const t = tally(results);
    t0.diagnostic(describeTally(t));
    assert.equal(results.length, msgs.length, 'every request answered');
    assert.deepEqual(t.unknown, [], 'only known error codes');
    assert.equal(t.codes.get('internal') ?? 0, 0, `no internal errors (${describeTally(t)})`);
    assert.ok((t.codes.get('bad-request') ?? 0) > msgs.length / 2, describeTally(t));
    assert.ok(alive(server));
  });

  it('unauthenticated /viewer clients are refused, whatever they present', async () => {
    const rnd = seededRandom(2);
    const tokens: unknown[] = ['', null, 42, {}, [], { $gt: '' }, 'lso_', randomString(rnd), 'x'.repeat(300_000)];
    while (tokens.length < 200) tokens.push(randomValue(rnd, 2));
    const refusals = await Promise.all(
      tokens.map((token) => tryConnect(`${server.url}/viewer`, { auth: { token }, transports: ['websocket'] })),
    );
    assert.ok(!refusals.includes('connected'));
    for (const r of refusals) assert.match(r, /unauthorized|xhr poll error|websocket error|parser error|timeout/);
    assert.ok(refusals.filter((r) => /unauthorized/.test(r)).length >= 190);
  });

  it(`${PER_NAMESPACE} random requests on /node (join token) all get typed answers`, async (t0) => {
    const rnd = seededRandom(3);
    const msgs = messages(rnd, PER_NAMESPACE, hostileNodeRequests(replicaId));
    const joinToken = await server.hostToken('fuzz-host');
    const nodes = await Promise.all(Array.from({ length: SOCKETS }, () => RawNode.connect(server.url, joinToken)));
    // Half of them registered (no apps, no capacity: nothing is placed on them), half not.
    await Promise.all(
      nodes.slice(0, SOCKETS / 2).map((n, i) =>
        n.raw({
          type: 'node.register',
          nodeId: `fuzz-${i}`,
          hostId: `fuzz-host-${i}`,
          apps: [],
          capacity: { cores: 1, maxReplicas: 0 },
        }),
      ),
    );
    // Registered nodes heartbeat like real ones, or the server rightly drops them as dead mid-fuzz.
    const beat = setInterval(() => {
      for (const n of nodes.slice(0, SOCKETS / 2))
        void n.raw({ type: 'node.heartbeat', load: 0.1 }).catch(() => undefined);
    }, 500);
    const results: Result<unknown>[] = [];
    const per = Math.ceil(msgs.length / SOCKETS);
    try {
      await Promise.all(
        nodes.map(async (n, i) => {
          results.push(...(await blast(msgs.slice(i * per, (i + 1) * per), (m) => n.raw(m, 20_000))));
        }),
      );
    } finally {
      clearInterval(beat);
    }
    // No fuzzing node ever saw an input of the real session.
    for (const n of nodes)
      assert.deepEqual(
        n.notifications.filter((x) => x.type === 'inputs'),
        [],
      );
    for (const n of nodes) n.close();
    const t = tally(results);
    t0.diagnostic(describeTally(t));
    assert.equal(results.length, msgs.length);
    assert.deepEqual(t.unknown, []);
    assert.equal(t.codes.get('internal') ?? 0, 0, describeTally(t));
    assert.ok(alive(server));
  });

  it('unknown events, requests without acks and raw engine.io garbage are ignored', async () => {
    const rnd = seededRandom(4);
    const s: Socket = io(`${server.url}/viewer`, {
      auth: { token: server.ownerToken },
      transports: ['websocket'],
      reconnection: false,
    });
    await new Promise<void>((resolve, reject) => {
      s.once('connect', () => resolve());
      s.once('connect_error', reject);
    });
    for (let i = 0; i < 1000; i++) {
      const name = i % 3 === 0 ? randomString(rnd).slice(0, 50) || 'x' : `evt-${i}`;
      if (['connect', 'disconnect', 'connect_error', 'disconnecting', 'newListener', 'removeListener'].includes(name))
        continue;
      s.emit(name, randomValue(rnd, 0));
      s.emit('request', randomValue(rnd, 0)); // no ack callback
    }
    // Malformed socket.io packets straight onto the engine.io transport.
    const engine = (s.io as unknown as { engine: { write: (d: string) => void } }).engine;
    for (let i = 0; i < 200; i++) {
      engine.write(
        [
          `42/viewer,${randomString(rnd)}`,
          `4${i}`,
          '42/viewer,["request",',
          '2probe',
          '45-/viewer,[]',
          randomString(rnd),
        ][i % 6] ?? '',
      );
    }
    await new Promise((r) => setTimeout(r, 500));
    s.close();
    assert.ok(alive(server));
    const health = await fetch(`${server.url}/healthz`);
    assert.equal(health.status, 200);
  });

  it('afterwards the server is alive, its memory bounded, and the session still works', async () => {
    assert.ok(alive(server));
    const rss = rssBytes(server.child.pid ?? 0);
    assert.ok(rss < 2 * rssStart + 150 * 1024 * 1024, `RSS ${rss >> 20} MB vs ${rssStart >> 20} MB at start`);
    const seqs = await viewer.type(sessionId, ' after');
    const last = seqs.at(-1) ?? 0;
    const s = await waitFor('replica applied the new input', async () => {
      const info = await getSession(server.url, sessionId);
      return info.replicas.find((r) => r.replicaId === replicaId && r.appliedSeq >= last) ? info : undefined;
    });
    assert.equal(s.headSeq, last);
  });
});

describe('fuzz: a renderer node under malformed notifications', () => {
  it('drops thousands of malformed notifications without crashing and keeps heartbeating', async () => {
    const heartbeats: number[] = [];
    const fake = await FakeNodeServer.start(
      (msg, n) => {
        if (msg.type === 'node.heartbeat') heartbeats.push(Date.now());
        return registerOnly(msg, n);
      },
      12 * 1024 * 1024,
    );
    try {
      const node = await startNode({
        url: fake.url,
        hostId: 'fuzzed-node',
        env: { LOCKSTEP_JOIN_TOKEN: 'fake-join-token-000000000' },
      });
      const pid = node.child.pid ?? 0;
      const rssBefore = rssBytes(pid);
      const rnd = seededRandom(5);
      const msgs = messages(rnd, PER_NAMESPACE, hostileNodeNotifications());
      const connected = fake.socket;
      assert.ok(connected);
      for (const m of msgs) connected.emit('notify', m);
      // Unknown events too.
      for (let i = 0; i < 500; i++) connected.emit(`evt-${i}`, randomValue(rnd, 0));
      const fuzzedAt = Date.now();
      await waitFor(
        'heartbeats after the fuzz',
        () => heartbeats.filter((t) => t > fuzzedAt + 500).length >= 2,
        20_000,
      );
      assert.ok(alive(node));
      const rssAfter = rssBytes(pid);
      assert.ok(rssAfter < 2 * rssBefore + 150 * 1024 * 1024, `node RSS ${rssAfter >> 20} MB vs ${rssBefore >> 20} MB`);
    } finally {
      await stopAll();
      await fake.close();
    }
  });

  it('refuses replicas past its own --max-replicas, whatever a server asks', async () => {
    const fake = await FakeNodeServer.start((msg, n) =>
      msg.type === 'replica.refuse' ? { ok: true, data: { ok: true } } : registerOnly(msg, n),
    );
    const asked = fake.requests;
    try {
      await startNode({
        url: fake.url,
        hostId: 'capped-node',
        env: { LOCKSTEP_JOIN_TOKEN: 'fake-join-token-000000000', LOCKSTEP_MAX_REPLICAS: '1' },
      });
      const connected = fake.socket;
      assert.ok(connected);
      const app = { name: 'writer', hash: appContentHash('writer') };
      for (const i of [1, 2, 3]) {
        connected.emit('notify', {
          type: 'replica.create',
          assignment: {
            replicaId: `cap-r${i}`,
            sessionId: `cap-s${i}`,
            app,
            width: 320,
            height: 240,
            headSeq: 0,
            snapshot: null,
          },
        });
      }
      // The first one is started: it asks for its transport (which this fake refuses, so it is refused later).
      await waitFor(
        'the first replica starting',
        () => asked.some((m) => m.type === 'transport.create' && m.replicaId === 'cap-r1') || undefined,
      );
      const capped = await waitFor('two refusals for the cap', () => {
        const r = asked.filter((m) => m.type === 'replica.refuse' && /at most 1 replicas/.test(String(m.reason)));
        return r.length >= 2 ? r : undefined;
      });
      assert.deepEqual(capped.map((m) => m.replicaId).sort(), ['cap-r2', 'cap-r3'], JSON.stringify(asked));
      assert.ok(!asked.some((m) => m.type === 'transport.create' && m.replicaId !== 'cap-r1'), 'nothing else started');
    } finally {
      await stopAll();
      await fake.close();
    }
  });
});
