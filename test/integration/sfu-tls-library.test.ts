// The SFU's DTLS runs on Debian's maintained OpenSSL 3, not the end-of-life
// OpenSSL 1.1.1 bundled with mediasoup 3.8.4 (docs/mediasoup-openssl.md): the
// worker links the system libssl.so.3 and reports OpenSSL 3 when it starts.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import { test } from 'node:test';
import { ROOT } from '../helpers/processes.js';

const WORKER = process.env.MEDIASOUP_WORKER_BIN ?? '';

test('the mediasoup worker links the system libssl.so.3', { skip: !WORKER && 'MEDIASOUP_WORKER_BIN unset' }, () => {
  const libs = execFileSync('ldd', [WORKER], { encoding: 'utf8' });
  assert.match(libs, /libssl\.so\.3 => \/\S+/);
  assert.match(libs, /libcrypto\.so\.3 => \/\S+/);
});

test('the worker reports OpenSSL 3 at start', { skip: !WORKER && 'MEDIASOUP_WORKER_BIN unset' }, () => {
  // DepOpenSSL logs the version it runs on at debug level (tag "info"); mediasoup
  // prints worker logs through the `debug` module when DEBUG selects them (on
  // stderr, or stdout when run under node:test: read both).
  const script = `
    import * as mediasoup from 'mediasoup';
    const w = await mediasoup.createWorker({ logLevel: 'debug', logTags: ['info'] });
    await new Promise((r) => setTimeout(r, 300));
    w.close();`;
  const res = spawnSync(process.execPath, ['--input-type=module', '-e', script], {
    cwd: ROOT,
    env: { ...process.env, DEBUG: 'mediasoup:Channel' },
    encoding: 'utf8',
    timeout: 30_000,
  });
  assert.equal(res.status, 0, res.stderr);
  const log = res.stdout + res.stderr;
  const version = /openssl version: "([^"]+)"/.exec(log)?.[1];
  assert.ok(version, `no version line in the worker's log:\n${log.slice(-2000)}`);
  assert.match(version, /^OpenSSL 3\./);
});
