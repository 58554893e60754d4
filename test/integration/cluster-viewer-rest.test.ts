// The viewer's REST calls survive the death of the page's server (issue 13),
// on a real 3-member etcd with real servers and renderer nodes:
// (a) export, thumbnail and import through the viewer's ClusterRest go to
//     another server when the page's server answers 5xx or is SIGKILLed; an
//     import sent twice (same import id) creates one session;
// (b) CORS on those routes answers the cluster's own origins only (a foreign
//     page's preflight is refused, its reads carry no grant, other routes
//     grant nothing);
// (c) a server restarted after a peer died still lets that peer's pages in
//     (CSP, socket Origin, CORS) from the durable origin record, and a forged
//     record (no cluster secret) lets nobody in.
import assert from 'node:assert/strict';
import { before, describe, it } from 'node:test';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { sealEntry } from '../../server/cluster/signed-entry.js';
import { PeerOriginSchema } from '../../protocol/cluster.js';
import { ClusterRest } from '../../viewer/cluster-rest.js';
import { ServerList } from '../../viewer/server-list.js';
import { authHeaders } from '../helpers/credentials.js';
import { startClusterServers, type ClusterServers } from '../helpers/cluster-servers.js';
import { etcdSuite, until } from '../helpers/etcd-suite.js';
import { startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { TestViewer, waitFor } from '../helpers/viewer-client.js';
import { liveWriterSession } from '../helpers/writer-session.js';

const SECRET = 'cluster-viewer-rest-secret-0123456789abcdef';
const EVIL = 'http://evil.example:3000';
const FORGED = 'http://forged.example:3000';

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
  /** The page's server's origin (it is SIGKILLed in the second test). */
  let paUrl: string;

  before(async () => {
    env = { LOCKSTEP_STORE: `etcd:${etcd.cluster().clientUrls.join(',')}`, LOCKSTEP_CLUSTER_SECRET: SECRET };
    // The page's server (pa) homes nothing; both renderer nodes are homed on pb.
    cluster = await startClusterServers(['pa', 'pb', 'pc'], env);
    paUrl = cluster.server('pa').url;
    const pb = cluster.server('pb');
    for (const host of ['host-1', 'host-2']) {
      await startNode({ url: pb.url, hostId: host, env: { LOCKSTEP_JOIN_TOKEN: await pb.hostToken(host) } });
    }
    const v = await TestViewer.connect(pb.url);
    ({ sessionId } = await liveWriterSession(v, pb.url, { r: 2, width: 320, height: 200 }));
    await v.type(sessionId, 'hello');
    v.close();
  });

  it('CORS answers the cluster’s origins on the viewer’s routes only, never a foreign page', async () => {
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

    const evil = await preflight(pb.url, exportPath, EVIL, 'GET');
    assert.equal(evil.status, 403, 'a foreign page’s preflight is refused');
    assert.equal(evil.headers.get('access-control-allow-origin'), null);
    const read = await fetch(`${pb.url}${exportPath}`, { headers: { ...authHeaders(pb.url), origin: EVIL } });
    assert.equal(read.headers.get('access-control-allow-origin'), null, 'no grant: its script cannot read it');
    const granted = await fetch(`${pb.url}${exportPath}`, { headers: { ...authHeaders(pb.url), origin: pa.url } });
    assert.equal(granted.headers.get('access-control-allow-origin'), pa.url);
    assert.match(granted.headers.get('access-control-expose-headers') ?? '', /X-Lockstep-Seq/);
    const log = await fetch(`${pb.url}/api/sessions/${sessionId}/log`, {
      headers: { ...authHeaders(pb.url), origin: pa.url },
    });
    assert.equal(log.headers.get('access-control-allow-origin'), null, 'the input log is not a peer-page route');
    assert.equal((await preflight(pb.url, `/api/sessions/${sessionId}/log`, pa.url, 'GET')).status, 401);
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
    assert.equal((await preflight(restarted.url, '/api/whoami', FORGED, 'GET')).status, 403);
    // The socket handshake (its polling request) with the dead peer's page as Origin.
    const handshake = (origin: string): Promise<number> =>
      fetch(`${restarted.url}/socket.io/?EIO=4&transport=polling`, { headers: { origin } }).then((r) => r.status);
    assert.equal(await handshake(paUrl), 200, 'the dead peer’s page may open a socket');
    assert.equal(await handshake(FORGED), 403, 'the forged origin may not');
    assert.equal(await handshake(EVIL), 403);
  });
});
