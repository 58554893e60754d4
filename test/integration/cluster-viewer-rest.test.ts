// The viewer's REST calls survive the death of the page's server (issue 13),
// on a real 3-member etcd with real servers and renderer nodes:
// (a) export, thumbnail and import through the viewer's ClusterRest go to
//     another server when the page's server answers 5xx or is SIGKILLed; an
//     import sent twice (same import id) creates one session;
// (b) CORS on those routes (origin-rule.ts): the cluster's origins get
//     grants; another page (a page loaded as localhost when its server
//     advertises 127.0.0.1, or any other) only on answers to a valid token,
//     and its sockets are judged by their token; other routes grant nothing;
//     the token check of a page whose server died goes to another server;
// (c) a server restarted after a peer died still lets that peer's pages in
//     (CSP, socket Origin, CORS) from the durable origin record, and a forged
//     record (no cluster secret) lets nobody in.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { sealEntry } from '../helpers/sealed-entries.js';
import { PeerOriginSchema } from '../../protocol/cluster.js';
import { ClusterRest } from '../../viewer/cluster-rest.js';
import { ServerList } from '../../viewer/server-list.js';
import { checkToken } from '../../viewer/token-intake.js';
import { tryConnect } from '../helpers/socket-probe.js';
import { authHeaders } from '../helpers/credentials.js';
import { startClusterServers, type ClusterServers } from '../helpers/cluster-servers.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';
import { startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';
import { liveWriterSession } from '../helpers/writer-session.js';

const SECRET = 'cluster-viewer-rest-secret-0123456789abcdef';
const EVIL = 'http://evil.example:3000';
const FORGED = 'http://forged.example:3000';

/** The same server by its other loopback name (127.0.0.1 <-> localhost): a page loaded by a name it does not advertise. */
function otherName(url: string): string {
  const u = new URL(url);
  u.hostname = u.hostname === 'localhost' ? '127.0.0.1' : 'localhost';
  return u.origin;
}

/** A viewer's REST client whose page came from `page` and that knows `others`. */
function viewerRest(page: ServerProc, others: ServerProc[]): { rest: ClusterRest; list: ServerList } {
  const list = new ServerList(page.url);
  list.update([page.url, ...others.map((s) => s.url)]);
  return { rest: new ClusterRest({ servers: list, token: () => page.ownerToken }), list };
}

async function sessionIds(s: ServerProc): Promise<string[]> {
  const res = await fetch(`${s.url}/api/sessions`, { headers: authHeaders(s.url) });
  assert.equal(res.status, 200);
  return ((await res.json()) as { sessions: Array<{ sessionId: string }> }).sessions.map((x) => x.sessionId);
}

async function serverIds(s: ServerProc): Promise<string[]> {
  const res = await fetch(`${s.url}/api/servers`, { headers: authHeaders(s.url) });
  return ((await res.json()) as { servers: Array<{ id: string }> }).servers.map((x) => x.id);
}

const preflight = (url: string, path: string, origin: string, method: string): Promise<Response> =>
  fetch(`${url}${path}`, {
    method: 'OPTIONS',
    headers: {
      origin,
      'access-control-request-method': method,
      'access-control-request-headers': 'authorization, content-type',
    },
  });

describe('the viewer’s REST calls on a cluster whose page server dies', () => {
  const etcd = etcdSuite(stopAll);
  let env: Record<string, string>;
  let cluster: ClusterServers;
  let sessionId: string;
  /** The page's server's origin and owner token (it is SIGKILLed in the third test). */
  let paUrl: string;
  let paToken: string;

  before(async () => {
    env = { LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`, LOCKSTEP_CLUSTER_SECRET: SECRET };
    // The page's server (pa) homes nothing; both renderer nodes are homed on pb.
    cluster = await startClusterServers(['pa', 'pb', 'pc'], env);
    paUrl = cluster.server('pa').url;
    paToken = cluster.server('pa').ownerToken;
    const pb = cluster.server('pb');
    for (const host of ['host-1', 'host-2']) {
      await startNode({ url: pb.url, hostId: host, env: { LOCKSTEP_JOIN_TOKEN: await pb.hostToken(host) } });
    }
    const v = await TestViewer.connect(pb.url);
    ({ sessionId } = await liveWriterSession(v, pb.url, { r: 2, width: 320, height: 200 }));
    await v.type(sessionId, 'hello');
    v.close();
  });

  it('CORS on the viewer’s routes only: the cluster’s origins get grants, another page only with a valid token', async () => {
    const pa = cluster.server('pa');
    const pb = cluster.server('pb');
    const exportPath = `/api/sessions/${sessionId}/export?format=txt`;
    const ok = await preflight(pb.url, exportPath, pa.url, 'GET');
    assert.equal(ok.status, 204);
    assert.equal(ok.headers.get('access-control-allow-origin'), pa.url);
    assert.match(ok.headers.get('access-control-allow-headers') ?? '', /authorization/);
    const imp = await preflight(pb.url, '/api/sessions/import?format=txt', pa.url, 'POST');
    assert.equal(imp.status, 204);
    assert.match(imp.headers.get('access-control-allow-methods') ?? '', /POST/);
    assert.match(imp.headers.get('access-control-allow-headers') ?? '', /content-type/);
    const thumb = await preflight(pb.url, `/api/sessions/${sessionId}/thumbnail.jpg`, pa.url, 'GET');
    assert.equal(thumb.status, 204);

    // Another page (origin-rule.ts): its preflight carries no token and is answered; its reads are
    // granted only with a valid token, which it cannot have but its own (tokens are never cookies).
    const evil = await preflight(pb.url, exportPath, EVIL, 'GET');
    assert.equal(evil.status, 204);
    assert.equal(evil.headers.get('access-control-allow-credentials'), null, 'never with credentials');
    const tokenless = await fetch(`${pb.url}${exportPath}`, { headers: { origin: EVIL } });
    assert.equal(tokenless.status, 401);
    assert.equal(tokenless.headers.get('access-control-allow-origin'), null, 'no grant: its script cannot read it');
    const madeUp = await fetch(`${pb.url}${exportPath}`, {
      headers: { origin: EVIL, authorization: `Bearer ${'lso_' + 'x'.repeat(40)}` },
    });
    assert.equal(madeUp.headers.get('access-control-allow-origin'), null, 'a refused token gets no grant');
    const read = await fetch(`${pb.url}${exportPath}`, { headers: { ...authHeaders(pb.url), origin: EVIL } });
    assert.equal(read.status, 200);
    assert.equal(read.headers.get('access-control-allow-origin'), EVIL, 'its own valid token: as from curl');
    assert.equal((await preflight(pb.url, exportPath, 'null', 'GET')).status, 403, 'a malformed Origin is refused');
    const granted = await fetch(`${pb.url}${exportPath}`, { headers: { ...authHeaders(pb.url), origin: pa.url } });
    assert.equal(granted.headers.get('access-control-allow-origin'), pa.url);
    assert.match(granted.headers.get('access-control-expose-headers') ?? '', /X-Lockstep-Seq/);
    const log = await fetch(`${pb.url}/api/sessions/${sessionId}/log`, {
      headers: { ...authHeaders(pb.url), origin: pa.url },
    });
    assert.equal(log.headers.get('access-control-allow-origin'), null, 'the input log is not a peer-page route');
    assert.equal((await preflight(pb.url, `/api/sessions/${sessionId}/log`, pa.url, 'GET')).status, 401);
  });

  it('a page loaded by another name than its server advertises reaches the other servers with its token', async () => {
    const pa = cluster.server('pa');
    const pb = cluster.server('pb');
    const token = pa.ownerToken;
    for (const origin of [new URL(pa.url).origin, otherName(pa.url)]) {
      const pre = await preflight(pb.url, '/api/whoami', origin, 'GET');
      assert.equal(pre.status, 204, origin);
      assert.equal(pre.headers.get('access-control-allow-origin'), origin);
      const who = await fetch(`${pb.url}/api/whoami`, { headers: { origin, authorization: `Bearer ${token}` } });
      assert.equal(who.status, 200);
      assert.equal(who.headers.get('access-control-allow-origin'), origin, `${origin} may read who its token is`);
      assert.equal(((await who.json()) as { kind: string }).kind, 'owner');
      const list = await fetch(`${pb.url}/api/servers`, { headers: { origin, authorization: `Bearer ${token}` } });
      assert.equal(list.headers.get('access-control-allow-origin'), origin);
      const socket = await tryConnect(`${pb.url}/viewer`, {
        auth: { token },
        transports: ['polling'],
        extraHeaders: { origin },
      });
      assert.equal(socket, 'connected', `${origin}: a socket to a peer`);
      const noToken = await tryConnect(`${pb.url}/viewer`, { transports: ['polling'], extraHeaders: { origin } });
      assert.match(noToken, /unauthorized/);
    }
    // Without a token only the advertised (cluster) origin may read the answer.
    const anon = async (origin: string): Promise<string | null> =>
      (await fetch(`${pb.url}/api/whoami`, { headers: { origin } })).headers.get('access-control-allow-origin');
    assert.equal(await anon(new URL(pa.url).origin), new URL(pa.url).origin);
    assert.equal(await anon(otherName(pa.url)), null);
  });

  it('export, thumbnail and import go to another server when the page’s server fails or dies', async () => {
    const pa = cluster.server('pa');
    const pb = cluster.server('pb');
    const pc = cluster.server('pc');
    const { rest, list } = viewerRest(pa, [pb, pc]);
    const exportTxt = async (): Promise<string> => {
      const res = await rest.request({ path: `/api/sessions/${sessionId}/export?format=txt`, idempotent: true });
      assert.equal(res.status, 200, await res.clone().text());
      return res.text();
    };
    // Alive but unable (no replicas homed on pa, nor on pc: 503): the next server that can, answers.
    assert.equal(await exportTxt(), 'hello');

    await pa.kill('SIGKILL');
    cluster.servers.delete('pa');
    assert.equal(await exportTxt(), 'hello', 'the page’s server is dead: another serves the download');
    assert.ok(list.failures(pa.url) >= 1, 'the dead server is in backoff');
    const thumb = await waitFor(
      'a thumbnail from a live server',
      async () => {
        const res = await rest.request({ path: `/api/sessions/${sessionId}/thumbnail.jpg`, idempotent: true });
        return res.status === 200 ? res : undefined;
      },
      30_000,
    );
    assert.equal(thumb.headers.get('content-type'), 'image/jpeg');

    const before = await sessionIds(pb);
    const importOnce = async (): Promise<string> => {
      const res = await rest.request({
        path: '/api/sessions/import?format=txt&importId=viewer-rest-import-0001',
        method: 'POST',
        headers: { 'Content-Type': 'application/octet-stream' },
        body: 'imported text',
        idempotent: true,
      });
      assert.equal(res.status, 201, await res.clone().text());
      return ((await res.json()) as { session: { sessionId: string } }).session.sessionId;
    };
    const first = await importOnce();
    // The answer was lost (say): the viewer sends it again, maybe to another server: the same session.
    const again = await importOnce();
    assert.equal(again, first);
    const direct = await fetch(`${pc.url}/api/sessions/import?format=txt&importId=viewer-rest-import-0001`, {
      method: 'POST',
      headers: { ...authHeaders(pc.url), 'content-type': 'application/octet-stream' },
      body: 'imported text',
    });
    assert.equal(direct.status, 201);
    assert.equal(((await direct.json()) as { session: { sessionId: string } }).session.sessionId, first);
    await until(async () => (await sessionIds(pb)).length === before.length + 1, 5000, 'the imported session');
    assert.deepEqual(
      (await sessionIds(pb)).filter((id) => !before.includes(id)),
      [first],
      'one file, one session',
    );
    const log = await fetch(`${pb.url}/api/sessions/${first}/log`, { headers: authHeaders(pb.url) });
    const { inputs } = (await log.json()) as { inputs: unknown[] };
    assert.equal(inputs.length, 1, 'its parts logged once');
  });

  it('the token check of a page whose server died after it loaded goes to another server', async () => {
    // pa is dead (the test above); its page's token is in etcd, and any server checks it.
    const list = new ServerList(paUrl);
    list.update([cluster.server('pb').url, cluster.server('pc').url]);
    const who = await checkToken(paToken, list);
    assert.equal(who.kind, 'owner', JSON.stringify(who));
    assert.ok(list.failures(paUrl) >= 1, 'the dead page server was tried first');
    assert.deepEqual(await checkToken(`lso_${'x'.repeat(40)}`, list), { kind: 'invalid' });
  });

  it('a server restarted after a peer died still lets that peer’s pages in; a forged origin record does not', async () => {
    const pb = cluster.server('pb');
    const pc = cluster.server('pc');
    // A party with etcd access but without the cluster secret adds an origin.
    const forger = ClusterSecret.fromConfig('not-the-cluster-secret-0123456789abcdef', false);
    const key = `lockstep/cluster/origins/${encodeURIComponent(FORGED)}`;
    await etcd
      .client()
      .put(key)
      .value(sealEntry(forger, 'peer-origin', key, PeerOriginSchema, { origin: FORGED, seenAt: Date.now() }));
    // pa died in the test above; restart pc (a fresh process: it never saw pa live).
    await until(async () => !(await serverIds(pb)).includes('pa'), 10_000, "pa's registry entry to expire");
    const port = Number(new URL(pc.url).port);
    await pc.kill('SIGKILL');
    cluster.servers.delete('pc');
    const restarted = await startServer({ dataDir: pc.dataDir, port, env: { ...env, LOCKSTEP_SERVER_ID: 'pc' } });
    cluster.servers.set('pc', restarted);

    const csp = (await fetch(`${restarted.url}/`)).headers.get('content-security-policy') ?? '';
    assert.ok(csp.includes(paUrl), `the restarted server's connect-src names the dead peer: ${csp}`);
    assert.ok(!csp.includes('forged.example'), 'a forged record names nobody');
    const pre = await preflight(restarted.url, `/api/sessions/${sessionId}/export?format=txt`, paUrl, 'GET');
    assert.equal(pre.status, 204);
    assert.equal(pre.headers.get('access-control-allow-origin'), paUrl);
    // Tokenless, only a cluster origin may read the answer: the dead peer's is one, the forged is not.
    const anon = async (origin: string): Promise<string | null> =>
      (await fetch(`${restarted.url}/api/whoami`, { headers: { origin } })).headers.get('access-control-allow-origin');
    assert.equal(await anon(paUrl), paUrl);
    assert.equal(await anon(FORGED), null, 'a forged record grants nothing');
    // The socket handshake (its polling request) with the dead peer's page as Origin.
    const handshake = (origin: string): Promise<number> =>
      fetch(`${restarted.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } }).then((r) => r.status);
    assert.equal(await handshake(paUrl), 200, 'the dead peer’s page may open a socket');
    assert.equal(await handshake('null'), 403, 'a malformed Origin may not');
  });
});
