// Hostile input to the cluster's own routes on a real server over a real
// 3-member etcd: POST /api/cluster/export (server-to-server, signed), GET
// /api/rehome (a node's credential) and the viewer socket's ping. Whatever a
// party without the cluster secret (or with the wrong credential) sends, or
// a signed body that is malformed, gets a typed 4xx JSON error, and the
// server keeps serving.
import assert from 'node:assert/strict';
import { gzipSync } from 'node:zlib';
import { after, describe, it } from 'node:test';
import { io } from 'socket.io-client';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { startClusterServers } from '../helpers/cluster-servers.js';
import { authHeaders } from '../helpers/credentials.js';
import { etcdSuite } from '../helpers/etcd-suite.js';
import { stopAll, type ServerProc } from '../helpers/processes.js';

const SECRET = 'cluster-route-hostility-test-secret-0123456789';
const EXPORT = '/api/cluster/export';

interface Answer {
  status: number;
  code: string | null;
  json: boolean;
}

async function answer(res: Response): Promise<Answer> {
  const text = await res.text();
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown } };
    return { status: res.status, code: typeof body.error?.code === 'string' ? body.error.code : null, json: true };
  } catch {
    return { status: res.status, code: null, json: false };
  }
}

describe('hostile input to the cluster routes', () => {
  const etcd = etcdSuite(stopAll);
  after(stopAll);
  let pa: ServerProc;
  const secret = ClusterSecret.fromConfig(SECRET, false);

  const post = async (body: string | Blob, headers: Record<string, string> = {}): Promise<Answer> =>
    answer(await fetch(`${pa.url}${EXPORT}`, { method: 'POST', body, headers }));
  const signed = (body: string, now = Date.now()): Record<string, string> =>
    secret.requestHeaders({ method: 'POST', path: EXPORT, body }, now);
  const alive = async (): Promise<void> => {
    const res = await fetch(`${pa.url}/healthz`);
    assert.equal(res.status, 200, 'the server still serves');
  };

  it('POST /api/cluster/export: unsigned, forged, stale, oversized, mis-encoded or malformed bodies get a typed 4xx', async () => {
    const env = { LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`, LOCKSTEP_CLUSTER_SECRET: SECRET };
    pa = (await startClusterServers(['pa'], env)).server('pa');
    const request = JSON.stringify({ sessionId: 's1', atSeq: 0, format: 'txt', replicaIds: ['s1.r1'] });
    const cases: Array<[string, () => Promise<Answer>, number, string]> = [
      ['unsigned', () => post(request), 401, 'unauthorized'],
      [
        'signed with another secret',
        async () => {
          const other = ClusterSecret.fromConfig('x'.repeat(40), false);
          return post(request, other.requestHeaders({ method: 'POST', path: EXPORT, body: request }));
        },
        401,
        'unauthorized',
      ],
      ['signed for another body', () => post(`${request} `, signed(request)), 401, 'unauthorized'],
      ['stale', () => post(request, signed(request, Date.now() - 120_000)), 401, 'unauthorized'],
      [
        'a time that is no number',
        () => post(request, { ...signed(request), 'x-lockstep-cluster-time': '1e3' }),
        401,
        'unauthorized',
      ],
      [
        'a MAC that is no base64',
        () => post(request, { ...signed(request), 'x-lockstep-cluster-mac': '%%%' }),
        401,
        'unauthorized',
      ],
      ['signed, not JSON', () => post('{nope', signed('{nope')), 400, 'bad-request'],
      ['signed, JSON of the wrong shape', () => post('{"sessionId":1}', signed('{"sessionId":1}')), 400, 'bad-request'],
      ['signed, JSON null', () => post('null', signed('null')), 400, 'bad-request'],
      ['larger than 64 kB', () => post('x'.repeat(100_000)), 413, 'too-large'],
      ['gzip that is not gzip', () => post('not gzip', { 'content-encoding': 'gzip' }), 400, 'bad-request'],
      ['an encoding it does not know', () => post(request, { 'content-encoding': 'zstd-nope' }), 400, 'bad-request'],
      [
        'a charset it does not know',
        () => post(request, { 'content-type': 'text/plain; charset=nope-8' }),
        400,
        'bad-request',
      ],
      [
        'gzip that inflates past 64 kB',
        () => post(new Blob([gzipSync(Buffer.alloc(200_000, 0x20))]), { 'content-encoding': 'gzip' }),
        413,
        'too-large',
      ],
    ];
    for (const [what, send, status, code] of cases) {
      const got = await send();
      assert.deepEqual(got, { status, code, json: true }, what);
    }
    await alive();
  });

  it('GET /api/rehome: no token, a malformed one, a viewer token or a join token get a typed 401', async () => {
    const rehome = async (headers: Record<string, string>, query = ''): Promise<Answer> =>
      answer(await fetch(`${pa.url}/api/rehome${query}`, { headers }));
    const join = await pa.hostToken('pc-hostile');
    const cases: Array<[string, () => Promise<Answer>]> = [
      ['no token', () => rehome({})],
      ['a malformed bearer', () => rehome({ authorization: 'Bearer' })],
      ['a bearer of 8 000 characters', () => rehome({ authorization: `Bearer ${'a'.repeat(8000)}` })],
      ['a token of control characters', () => rehome({}, `?token=${encodeURIComponent('\u0000\u0001')}`)],
      ['a token given twice in the query', () => rehome({}, '?token=a&token=b')],
      ['a token as a query object', () => rehome({}, '?token[x]=a')],
      ['a viewer token', () => rehome(authHeaders(pa.url))],
      ['a join token (anyone the operator let in, not a node)', () => rehome({ authorization: `Bearer ${join}` })],
    ];
    for (const [what, send] of cases) {
      assert.deepEqual(await send(), { status: 401, code: 'unauthorized', json: true }, what);
    }
    await alive();
  });

  it('the viewer socket ping: extra fields are refused with a typed error, one without an ack crashes nothing', async () => {
    const s = io(`${pa.url}/viewer`, {
      reconnection: false,
      forceNew: true,
      auth: { token: authHeaders(pa.url).authorization?.slice('Bearer '.length) },
    });
    try {
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('connect_error', reject);
      });
      const ask = (msg: unknown): Promise<{ ok: boolean; error?: { code: string } }> =>
        s.timeout(5000).emitWithAck('request', msg) as Promise<{ ok: boolean; error?: { code: string } }>;
      assert.deepEqual(await ask({ type: 'ping' }), { ok: true, data: { ok: true } });
      for (const msg of [
        { type: 'ping', extra: 1 },
        { type: 'ping', type2: 'x'.repeat(100_000) },
        'ping',
        null,
        42,
        [],
      ]) {
        const got = await ask(msg);
        assert.equal(got.ok, false, JSON.stringify(msg).slice(0, 40));
        assert.equal(got.error?.code, 'bad-request', JSON.stringify(msg).slice(0, 40));
      }
      // No ack callback at all, then the next request still answers.
      s.emit('request', { type: 'ping' });
      s.emit('request', { type: 'ping', extra: 1 });
      assert.deepEqual(await ask({ type: 'ping' }), { ok: true, data: { ok: true } });
    } finally {
      s.close();
    }
    await alive();
  });
});
