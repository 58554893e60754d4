// The node-only install, on a clean copy of this checkout: `scripts/setup.sh
// --node` installs the renderer node's npm dependencies and nothing else (no
// mediasoup worker, no Chromium, no SQLite, no viewer bundle), and the
// documented `lockstep node --server URL --token T` from that copy joins a
// server, hosts a replica, and its stream reaches a viewer in Chromium.
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { after, before, describe, it } from 'node:test';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { removeDir, ROOT, startNodeCommand, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { openViewer, viewerPageState } from '../helpers/viewer-page.js';

const run = promisify(execFile);

/** What a server, the tests or the demos need and a renderer node must not get. */
const NOT_ON_A_NODE = ['mediasoup', 'better-sqlite3', 'express', 'socket.io', 'prom-client', 'playwright-core'];
const DEV_ONLY = ['typescript', 'eslint', 'esbuild', 'prettier'];
const NODE_NEEDS = ['@roamhq/wrtc', 'canvas', 'sharp', 'mediasoup-client', 'socket.io-client', 'tsx', 'zod'];

/** The files a fresh clone of this checkout has (tracked and not ignored), copied as they are now. */
function cleanCopy(to: string): void {
  const files = execFileSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: ROOT,
    encoding: 'utf8',
  })
    .split('\0')
    .filter((f) => f && !f.startsWith('node_modules/') && existsSync(join(ROOT, f)));
  for (const f of files) {
    mkdirSync(dirname(join(to, f)), { recursive: true });
    cpSync(join(ROOT, f), join(to, f));
  }
}

describe('node-only install: setup --node on a clean checkout, then lockstep node', () => {
  const work = mkdtempSync(join(tmpdir(), 'lockstep-node-install-'));
  const checkout = join(work, 'lockstep');
  // The worker cache setup would use: it must stay empty.
  const cache = join(work, 'cache');
  let setupOutput = '';
  let server: ServerProc | undefined;
  let browser: TestBrowser | undefined;

  before(async () => {
    cleanCopy(checkout);
    mkdirSync(cache);
    const env: NodeJS.ProcessEnv = { ...process.env, LOCKSTEP_CACHE_DIR: cache };
    delete env.MEDIASOUP_WORKER_BIN;
    const { stdout, stderr } = await run('bash', ['scripts/setup.sh', '--node'], {
      cwd: checkout,
      env,
      timeout: 15 * 60_000,
      maxBuffer: 64 * 1024 * 1024,
    });
    setupOutput = stdout + stderr;
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
    rmSync(work, { recursive: true, force: true });
  });

  it('installs the node dependencies and nothing a node does not use', () => {
    const pkgLine = /\[setup\] mode: node; system packages: (.*)/.exec(setupOutput)?.[1] ?? '';
    assert.ok(pkgLine, `setup says what it checks:\n${setupOutput.slice(-2000)}`);
    for (const p of ['chromium', 'libssl-dev', 'iproute2']) assert.ok(!pkgLine.split(' ').includes(p), `${p} checked`);
    assert.doesNotMatch(setupOutput, /mediasoup-worker|build:viewer|esbuild/i);
    const modules = join(checkout, 'node_modules');
    for (const p of NODE_NEEDS) assert.ok(existsSync(join(modules, p, 'package.json')), `${p} installed`);
    for (const p of [...NOT_ON_A_NODE, ...DEV_ONLY])
      assert.ok(!existsSync(join(modules, p)), `${p} must not be installed on a node`);
    assert.deepEqual(readdirSync(cache), [], 'no mediasoup worker built or cached');
    assert.ok(!existsSync(join(checkout, 'viewer/dist')), 'no viewer bundle built');
  });

  it('runs setup --node again as a no-op', async () => {
    const env: NodeJS.ProcessEnv = { ...process.env, LOCKSTEP_CACHE_DIR: cache };
    delete env.MEDIASOUP_WORKER_BIN;
    const { stdout } = await run('bash', ['scripts/setup.sh', '--node'], { cwd: checkout, env, timeout: 60_000 });
    assert.doesNotMatch(stdout, /installing/);
  });

  it('`lockstep node` from that checkout hosts a replica whose stream reaches a viewer', async () => {
    server = await startServer();
    const v = await TestViewer.connect(server.url);
    const { session } = await v.request({
      type: 'sessions.create',
      app: 'writer',
      // R is at least 2; with one host the second replica is simply not placed.
      replicationFactor: 2,
      width: 640,
      height: 360,
    });
    const node = await startNodeCommand({ checkout, url: server.url, hostId: 'spare-pc' });
    await waitFor('node reports hosting the replica', () => /\+ hosting replica \S+ of session/.test(node.output()));
    const live = await waitFor('live replica on the spare PC', async () => {
      const s = await getSession(server?.url ?? '', session.sessionId);
      return s.replicas.find((r) => r.state === 'live' && r.producerId && r.hostId === 'spare-pc');
    });
    assert.ok(live);

    browser = await launchChromium();
    const page = await browser.context.newPage();
    await openViewer(page, server.url, session.sessionId);
    await page.keyboard.type('node');
    const st = await waitFor(
      'the typed keys on screen',
      async () => {
        const s = await viewerPageState(page);
        // 'node' is 4 keys, one input each (the writer reads no key-ups).
        return s && s.pendingInputs === 0 && s.ackedSeq >= 4 && s.displayedSeq >= s.ackedSeq ? s : undefined;
      },
      30_000,
    );
    assert.equal(st.liveHostId, 'spare-pc');
    v.close();
  });
});
