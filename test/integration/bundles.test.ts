// Published app bundles end to end, with real processes: `lockstep app
// publish` uploads a test app, a session pins its hash, renderer nodes that
// never saw it fetch it over their socket, verify it, run it sandboxed and
// agree on its state; a node started with `--apps builtin` is never given it;
// a bundle whose stored bytes were tampered with is refused by every node
// without touching the other session; bad uploads get typed errors.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { after, before, describe, it } from 'node:test';
import { BUNDLE_HASH_HEADER } from '../../protocol/bundle.js';
import { LIMITS } from '../../protocol/limits.js';
import { bundleHashOf, decodeBundle, encodeBundle, MANIFEST_PATH } from '../../render/bundle/app-bundle.js';
import { packAppFolder } from '../../render/bundle/pack-folder.js';
import { publishBundle } from '../../render/bundle/publish-client.js';
import { startBundleNode } from '../helpers/bundle-node.js';
import { removeDir, ROOT, startServer, stopAll, type Proc, type ServerProc } from '../helpers/processes.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

const TALLY = fileURLToPath(new URL('../fixtures/apps/tally/', import.meta.url));
const JOT = fileURLToPath(new URL('../fixtures/apps/jot/', import.meta.url));

/**
 * Runs the CLI without blocking this process: a synchronous spawn stalls the test viewer's socket, and on a
 * loaded machine the server then drops it for missed pings.
 */
function cli(...args: string[]): Promise<{ status: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(ROOT, 'bin', 'lockstep.mjs'), ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill('SIGKILL'), 60_000);
    child.on('close', (status) => {
      clearTimeout(timer);
      resolve({ status, stdout, stderr });
    });
  });
}

describe('published app bundles', () => {
  let server: ServerProc;
  let viewer: TestViewer;
  const nodes = new Map<string, Proc>();
  const cacheDirs: string[] = [];
  const packed = packAppFolder(TALLY);

  before(async () => {
    server = await startServer();
    const start = async (hostId: string, apps: string) => {
      nodes.set(hostId, await startBundleNode({ url: server.url, hostId, apps, cacheDirs }));
    };
    await Promise.all([start('pub-a', 'published'), start('pub-b', 'published'), start('builtin-c', 'builtin')]);
    viewer = await TestViewer.connect(server.url);
  });

  after(async () => {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
    for (const dir of cacheDirs) removeDir(dir);
  });

  it('publishes with the CLI, lists it, and runs it on the nodes that accept published apps only', async () => {
    const pub = await cli('app', 'publish', TALLY, '--server', server.url, '--token', server.ownerToken);
    assert.equal(pub.status, 0, pub.stderr);
    assert.match(pub.stdout, new RegExp(`published tally@1\\.0\\.0`));
    assert.match(pub.stdout, new RegExp(packed.hash));
    const again = await cli('app', 'publish', TALLY, '--server', server.url, '--token', server.ownerToken);
    assert.match(again.stdout, /already published/);
    const list = await cli('app', 'list', '--server', server.url, '--token', server.ownerToken);
    assert.equal(list.status, 0, list.stderr);
    assert.match(list.stdout, new RegExp(`tally@1\\.0\\.0\\s+${packed.hash}\\s+${packed.bytes.length} bytes\\s+by `));

    // The viewer's app picker offers it after the built-in apps.
    const { apps } = await viewer.request({ type: 'apps.list' });
    assert.ok(apps.some((a) => a.name === 'tally' && a.hash === packed.hash && a.title === 'Tally 1.0.0'));
    assert.ok(apps.some((a) => a.name === 'writer'));
    // The hash is pinned at creation; by name@version it resolves to the same one.
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'tally@1.0.0',
      replicationFactor: 3,
      width: 320,
      height: 240,
    });
    assert.deepEqual(session.app, { name: 'tally', hash: packed.hash });
    await viewer.request({ type: 'session.join', sessionId: session.sessionId, clientId: 'bundle-test' });
    await viewer.type(session.sessionId, 'hello');
    let last: unknown;
    const s = await waitFor(
      'two replicas of the published app agreeing at the head',
      async () => {
        const info = await getSession(server.url, session.sessionId);
        last = info;
        return info.headSeq === 10 && converged(info, 2) ? info : undefined;
      },
      60_000,
    ).catch((err: unknown) => {
      throw new Error(
        `${String(err)}: ${JSON.stringify(last)}\n${[...nodes.values()].map((n) => n.output().slice(-3000)).join('\n')}`,
      );
    });
    assert.deepEqual(
      new Set(s.replicas.filter((r) => r.state === 'live').map((r) => r.hostId)),
      new Set(['pub-a', 'pub-b']),
    );
    // R=3 cannot be met: the third host refuses published apps and is never given one.
    assert.ok(!s.replicas.some((r) => r.hostId === 'builtin-c'));
    assert.doesNotMatch(nodes.get('builtin-c')?.output() ?? '', new RegExp(packed.hash));
    for (const host of ['pub-a', 'pub-b']) {
      assert.match(nodes.get(host)?.output() ?? '', /bundle fetched and verified/);
    }
  });

  it("a published app's manifest exports and imports reach REST: Download formats, exported bytes, import", async () => {
    const jot = packAppFolder(JOT);
    const { app } = await publishBundle(server.url, server.ownerToken, {
      name: 'jot',
      version: '1.0.0',
      hash: jot.hash,
      bytes: jot.bytes,
    });
    assert.deepEqual([app.exports, app.imports], [['txt', 'png'], ['txt']]);
    const auth = { Authorization: `Bearer ${server.ownerToken}` };
    // Its own viewer: client seqs of the suite's viewer stay as the other tests expect them.
    const typist = await TestViewer.connect(server.url);
    const { session } = await typist.request({
      type: 'sessions.create',
      app: 'jot',
      replicationFactor: 2,
      width: 320,
      height: 240,
    });
    const sessionId = session.sessionId;
    await typist.request({ type: 'session.join', sessionId, clientId: 'export-test' });
    const typed = 'Notes from a published app ✓';
    const headSeq = (await typist.type(sessionId, typed)).at(-1);
    await waitFor('jot replicas agree', async () => converged(await getSession(server.url, sessionId), 2), 60_000);

    // What the viewer's Download asks first: the formats, from the bundle's manifest.
    const offered = await fetch(`${server.url}/api/sessions/${sessionId}/export`, { headers: auth });
    assert.deepEqual(await offered.json(), { formats: ['txt', 'png'] });
    const txt = await fetch(`${server.url}/api/sessions/${sessionId}/export?format=txt`, { headers: auth });
    assert.equal(txt.status, 200, await txt.clone().text());
    assert.equal(txt.headers.get('x-lockstep-seq'), String(headSeq));
    assert.equal(await txt.text(), typed);
    const png = await fetch(`${server.url}/api/sessions/${sessionId}/export?format=png`, { headers: auth });
    assert.equal(png.status, 200);
    assert.equal(png.headers.get('content-type'), 'image/png');
    assert.ok(
      Buffer.from(await png.arrayBuffer())
        .subarray(1, 4)
        .equals(Buffer.from('PNG')),
    );
    const csv = await fetch(`${server.url}/api/sessions/${sessionId}/export?format=csv`, { headers: auth });
    assert.equal(csv.status, 400);

    // Its manifest's imports too: a .txt into a new jot session; a .csv it does not list is refused.
    const post = (query: string, body: string) =>
      fetch(`${server.url}/api/sessions/import?${query}`, { method: 'POST', headers: auth, body });
    const imported = await post('format=txt&app=jot&replicationFactor=2', 'brought in');
    assert.equal(imported.status, 201, await imported.clone().text());
    const { session: s2 } = (await imported.json()) as { session: { sessionId: string } };
    await waitFor('imported jot agrees', async () => converged(await getSession(server.url, s2.sessionId), 2), 60_000);
    const back = await fetch(`${server.url}/api/sessions/${s2.sessionId}/export?format=txt`, { headers: auth });
    assert.equal(await back.text(), 'brought in');
    assert.equal((await post('format=csv&app=jot', 'a,b')).status, 400);
    await typist.request({ type: 'sessions.close', sessionId });
    await typist.request({ type: 'sessions.close', sessionId: s2.sessionId });
    typist.close();
  });

  it('a bundle tampered with on the server is refused by every node; the other session keeps going', async () => {
    // A second version, published honestly, then its stored bytes altered (a hostile server or disk).
    const decoded = decodeBundle(packed.bytes);
    const manifest = JSON.parse(readFileSync(join(TALLY, MANIFEST_PATH), 'utf8')) as Record<string, unknown>;
    const v2 = encodeBundle(JSON.stringify({ ...manifest, version: '1.0.1' }), decoded.code, decoded.fontFiles);
    const hash = bundleHashOf(v2);
    const { app } = await publishBundle(server.url, server.ownerToken, {
      name: 'tally',
      version: '1.0.1',
      hash,
      bytes: v2,
    });
    assert.equal(app.hash, hash);
    const file = join(server.dataDir, 'bundles', `${hash}.bundle`);
    const bytes = readFileSync(file);
    bytes[bytes.length - 3] = (bytes[bytes.length - 3] ?? 0) ^ 0x20;
    writeFileSync(file, bytes);

    const { session } = await viewer.request({ type: 'sessions.create', app: hash, replicationFactor: 2 });
    for (const host of ['pub-a', 'pub-b']) {
      await waitFor(`${host} refusing the tampered bundle`, () =>
        /bundle bytes hash to[^\n]*refusing replica/.test(nodes.get(host)?.output() ?? ''),
      );
    }
    const info = await getSession(server.url, session.sessionId);
    assert.equal(info.replicas.filter((r) => r.state !== 'closed').length, 0);
    // Refused once, not offered again: no placement loop.
    await new Promise((r) => setTimeout(r, 1500));
    const refusals = (nodes.get('pub-a')?.output() ?? '').split('bundle bytes hash to').length - 1;
    assert.ok(refusals <= 2, `pub-a refused ${refusals} times`);

    // The first session is unaffected: it still takes input and its replicas agree.
    const tally = (await viewer.request({ type: 'sessions.list' })).sessions.find((x) => x.app.hash === packed.hash);
    assert.ok(tally);
    await viewer.request({ type: 'session.join', sessionId: tally.sessionId, clientId: 'bundle-test' });
    await viewer.type(tally.sessionId, 'ok');
    await waitFor('the tally session converged after more input', async () => {
      const s = await getSession(server.url, tally.sessionId);
      return s.headSeq === 14 && converged(s, 2);
    });
    // Nothing in a node's cache but verified bundles.
    for (const host of ['pub-a', 'pub-b']) assert.doesNotMatch(nodes.get(host)?.output() ?? '', /"level":(50|60)/);
  });

  it('refuses uploads whose bytes do not match their hash, malformed or oversized ones, and share links', async () => {
    const post = (body: Buffer, hash: string, token = server.ownerToken) =>
      fetch(`${server.url}/api/apps`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/octet-stream',
          [BUNDLE_HASH_HEADER]: hash,
        },
        body: new Uint8Array(body),
      });
    const wrong = await post(packed.bytes, 'a'.repeat(64));
    assert.equal(wrong.status, 400);
    assert.match(((await wrong.json()) as { error: { message: string } }).error.message, /hash to/);
    const junk = Buffer.from('not a bundle');
    const bad = await post(junk, bundleHashOf(junk));
    assert.equal(bad.status, 400);
    const big = Buffer.alloc(LIMITS.maxBundleBytes + 1);
    assert.equal((await post(big, bundleHashOf(big))).status, 413);
    const noHeader = await fetch(`${server.url}/api/apps`, {
      method: 'POST',
      headers: { authorization: `Bearer ${server.ownerToken}`, 'content-type': 'application/octet-stream' },
      body: new Uint8Array(packed.bytes),
    });
    assert.equal(noHeader.status, 400);
    assert.equal((await fetch(`${server.url}/api/apps`)).status, 401);
    const { sessions } = await viewer.request({ type: 'sessions.list' });
    const share = await viewer.request({
      type: 'share.create',
      sessionId: sessions[0]?.sessionId ?? '',
      role: 'control',
    });
    assert.equal((await post(packed.bytes, packed.hash, share.token)).status, 403);
    // A built-in app's name cannot be taken.
    const decoded = decodeBundle(packed.bytes);
    const fake = encodeBundle(
      JSON.stringify({ ...JSON.parse(readFileSync(join(TALLY, MANIFEST_PATH), 'utf8')), name: 'writer' }),
      decoded.code,
      decoded.fontFiles,
    );
    assert.equal((await post(fake, bundleHashOf(fake))).status, 400);
    // Nothing refused was stored: only tally 1.0.0 and 1.0.1 and jot.
    const stored = readdirSync(join(server.dataDir, 'bundles')).filter((f) => f.endsWith('.bundle'));
    assert.equal(stored.length, 3);
  });
});
