// The `lockstep` CLI: flag → env mapping (pure) and the launcher's help / error
// paths (spawned; none of these start a server or join one).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { serverEnvFromOptions } from '../../server/cli-options.js';
import { parseStoreSpec } from '../../server/log/store-spec.js';
import { nodeEnvFromOptions, normalizeServerUrl } from '../../render/cli-options.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const LAUNCHER = join(ROOT, 'bin', 'lockstep.mjs');

function cli(...args: string[]) {
  const r = spawnSync(process.execPath, [LAUNCHER, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

test('serverEnvFromOptions maps every flag to its env variable', () => {
  assert.deepEqual(
    serverEnvFromOptions({
      port: '0',
      host: '0.0.0.0',
      dataDir: '/tmp/d',
      announcedIp: '192.168.1.10',
      listenIp: '::',
      rtcMinPort: '41000',
      rtcMaxPort: '41100',
      workers: '2',
      tlsCert: 'c.pem',
      tlsKey: 'k.pem',
      store: 'etcd:http://10.0.0.1:2379,http://10.0.0.2:2379',
    }),
    {
      LOCKSTEP_PORT: '0',
      LOCKSTEP_HOST: '0.0.0.0',
      LOCKSTEP_DATA_DIR: '/tmp/d',
      LOCKSTEP_ANNOUNCED_IP: '192.168.1.10',
      LOCKSTEP_LISTEN_IP: '::',
      LOCKSTEP_RTC_MIN_PORT: '41000',
      LOCKSTEP_RTC_MAX_PORT: '41100',
      LOCKSTEP_MEDIASOUP_WORKERS: '2',
      LOCKSTEP_TLS_CERT: 'c.pem',
      LOCKSTEP_TLS_KEY: 'k.pem',
      LOCKSTEP_STORE: 'etcd:http://10.0.0.1:2379,http://10.0.0.2:2379',
    },
  );
});

test('serverEnvFromOptions leaves unset flags out and accepts numbers and hostnames', () => {
  assert.deepEqual(serverEnvFromOptions({}), {});
  assert.deepEqual(serverEnvFromOptions({ port: 65535, host: 'localhost' }), {
    LOCKSTEP_PORT: '65535',
    LOCKSTEP_HOST: 'localhost',
  });
  assert.deepEqual(serverEnvFromOptions({ host: '[::1]' }), { LOCKSTEP_HOST: '::1' });
});

test('serverEnvFromOptions rejects bad values with the flag name', () => {
  const bad: [Parameters<typeof serverEnvFromOptions>[0], RegExp][] = [
    [{ port: '-1' }, /--port must be an integer from 0 to 65535/],
    [{ port: '65536' }, /--port/],
    [{ port: '80.5' }, /--port/],
    [{ port: '12abc' }, /--port/],
    [{ port: '' }, /--port/],
    [{ host: 'not a host!' }, /--host/],
    [{ announcedIp: 'my-laptop' }, /--announced-ip must be an IPv4 or IPv6 address/],
    [{ announcedIp: '300.1.1.1' }, /--announced-ip/],
    [{ listenIp: '1.2.3' }, /--listen-ip/],
    [{ rtcMinPort: '70000' }, /--rtc-min-port/],
    [{ rtcMinPort: '45000', rtcMaxPort: '44000' }, /must not be greater than --rtc-max-port/],
    [{ rtcMinPort: '50000' }, /--rtc-min-port \(50000\) must not be greater than --rtc-max-port \(49999\)/],
    [{ workers: '0' }, /--workers/],
    [{ tlsCert: 'c.pem' }, /--tls-cert and --tls-key must be given together/],
    [{ tlsKey: 'k.pem' }, /together/],
    [{ dataDir: ' ' }, /--data-dir must not be empty/],
    [{ store: 'mysql:db' }, /--store must be sqlite, sqlite:PATH or etcd:URL,URL,URL/],
    [{ store: 'sqlite:' }, /--store sqlite:PATH needs a file path/],
    [{ store: 'etcd:' }, /at least one etcd client URL/],
    [{ store: 'etcd:10.0.0.1:2379' }, /is not a URL/],
    [{ store: 'etcd:ftp://a:2379' }, /must be http\(s\):\/\/host:port/],
    [{ store: 'etcd:http://a:2379/v3' }, /must be http\(s\):\/\/host:port/],
    [{ store: 'etcd:not a url' }, /is not a URL/],
  ];
  for (const [opts, pattern] of bad) assert.throws(() => serverEnvFromOptions(opts), pattern, JSON.stringify(opts));
});

test('parseStoreSpec reads sqlite, sqlite:PATH and etcd:URL,URL', () => {
  assert.deepEqual(parseStoreSpec('sqlite'), { kind: 'sqlite', path: undefined });
  assert.deepEqual(parseStoreSpec(' sqlite:/var/lib/log.sqlite '), { kind: 'sqlite', path: '/var/lib/log.sqlite' });
  assert.deepEqual(parseStoreSpec('etcd:http://a:2379, https://b:2379,'), {
    kind: 'etcd',
    hosts: ['http://a:2379', 'https://b:2379'],
  });
});

test('nodeEnvFromOptions maps flags and reduces the URL to its origin', () => {
  assert.deepEqual(
    nodeEnvFromOptions({
      server: 'http://192.168.1.10:3000/?session=s-1',
      token: 'secret',
      hostId: 'spare-pc',
      nodeId: 'spare-pc-1',
      maxReplicas: '4',
      maxFps: 60,
    }),
    {
      LOCKSTEP_SERVER_URL: 'http://192.168.1.10:3000',
      LOCKSTEP_JOIN_TOKEN: 'secret',
      LOCKSTEP_HOST_ID: 'spare-pc',
      LOCKSTEP_NODE_ID: 'spare-pc-1',
      LOCKSTEP_MAX_REPLICAS: '4',
      LOCKSTEP_MAX_FPS: '60',
    },
  );
  assert.deepEqual(nodeEnvFromOptions({ server: 'https://lockstep.example/' }), {
    LOCKSTEP_SERVER_URL: 'https://lockstep.example',
  });
  assert.equal(normalizeServerUrl('http://[::1]:3000'), 'http://[::1]:3000');
});

test('nodeEnvFromOptions requires an http(s) URL and rejects bad values', () => {
  const bad: [Parameters<typeof nodeEnvFromOptions>[0], RegExp][] = [
    [{}, /--server <url> is required/],
    [{ server: '' }, /--server <url> is required/],
    [{ server: 'not-a-url' }, /--server must be an http:\/\/ or https:\/\/ URL/],
    [{ server: '192.168.1.10:3000' }, /--server must be an http/],
    [{ server: 'ftp://host:21' }, /--server must be an http/],
    [{ server: 'ws://host:3000' }, /--server must be an http/],
    [{ server: 'http://h:1', hostId: 'has space' }, /--host-id/],
    [{ server: 'http://h:1', nodeId: '' }, /--node-id/],
    [{ server: 'http://h:1', token: '' }, /--token must not be empty/],
    [{ server: 'http://h:1', maxReplicas: '0' }, /--max-replicas/],
    [{ server: 'http://h:1', maxFps: '61' }, /--max-fps must be an integer from 1 to 60/],
    [{ server: 'http://h:1', maxFps: 'fast' }, /--max-fps/],
  ];
  for (const [opts, pattern] of bad) assert.throws(() => nodeEnvFromOptions(opts), pattern, JSON.stringify(opts));
});

test('lockstep --help lists the commands', () => {
  const r = cli('--help');
  assert.equal(r.status, 0, r.stderr);
  for (const word of ['Usage: lockstep', 'server', 'node', 'demo']) assert.match(r.stdout, new RegExp(word));
});

test('lockstep server --help and node --help list the flags', () => {
  const server = cli('server', '--help');
  assert.equal(server.status, 0, server.stderr);
  for (const flag of [
    '--port',
    '--host',
    '--data-dir',
    '--announced-ip',
    '--listen-ip',
    '--rtc-min-port',
    '--rtc-max-port',
    '--workers',
    '--tls-cert',
    '--tls-key',
  ]) {
    assert.ok(server.stdout.includes(flag), `server --help lacks ${flag}`);
  }
  const node = cli('node', '--help');
  assert.equal(node.status, 0, node.stderr);
  for (const flag of ['--server <url>', '--token', '--host-id', '--node-id', '--max-replicas', '--max-fps']) {
    assert.ok(node.stdout.includes(flag), `node --help lacks ${flag}`);
  }
});

test('lockstep node rejects a bad or missing --server with a clear message', () => {
  const bad = cli('node', '--server', 'not-a-url');
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /--server must be an http:\/\/ or https:\/\/ URL.*not-a-url/);
  const missing = cli('node');
  assert.equal(missing.status, 1);
  assert.match(missing.stderr, /required option '-s, --server <url>' not specified/);
});

test('unknown commands, unknown flags and bad values exit 1', () => {
  const cmd = cli('serve');
  assert.equal(cmd.status, 1);
  assert.match(cmd.stderr, /unknown command 'serve'/);
  const flag = cli('server', '--prot', '3000');
  assert.equal(flag.status, 1);
  assert.match(flag.stderr, /unknown option '--prot'/);
  const port = cli('server', '--port', '99999');
  assert.equal(port.status, 1);
  assert.match(port.stderr, /--port must be an integer from 0 to 65535/);
});

test('serverEnvFromOptions maps --join-token and --owner-token and refuses short secrets', () => {
  const join = 'lsj_0123456789abcdefghijklmnopqrstuv';
  const owner = 'lso_0123456789abcdefghijklmnopqrstuv';
  assert.deepEqual(serverEnvFromOptions({ joinToken: join, ownerToken: owner }), {
    LOCKSTEP_JOIN_TOKEN: join,
    LOCKSTEP_OWNER_TOKEN: owner,
  });
  assert.throws(() => serverEnvFromOptions({ joinToken: 'short' }), /--join-token must be 22-256 characters/);
  assert.throws(() => serverEnvFromOptions({ ownerToken: 'has spaces and is long enough' }), /--owner-token/);
});

test('lockstep token new prints a 192-bit secret', () => {
  const r = cli('token', 'new');
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout.trim(), /^lsj_[A-Za-z0-9_-]{32}$/);
});

test('nodeEnvFromOptions maps --apps and refuses anything but builtin, published or bundle hashes', () => {
  const hash = 'ab'.repeat(32);
  assert.deepEqual(nodeEnvFromOptions({ server: 'http://h:1', apps: 'published' }), {
    LOCKSTEP_SERVER_URL: 'http://h:1',
    LOCKSTEP_APPS: 'published',
  });
  assert.equal(
    nodeEnvFromOptions({ server: 'http://h:1', apps: `${hash}, ${hash.toUpperCase()}` }).LOCKSTEP_APPS,
    `${hash},${hash}`,
  );
  for (const bad of ['all', '', 'abc', `${hash},nope`]) {
    assert.throws(
      () => nodeEnvFromOptions({ server: 'http://h:1', apps: bad }),
      /--apps must be builtin, published/,
      bad,
    );
  }
  const r = cli('node', '--server', 'http://127.0.0.1:1', '--apps', 'everything');
  assert.equal(r.status, 1);
  assert.match(r.stderr, /--apps must be builtin, published, or comma-separated bundle hashes/);
});

test('lockstep app publish / list: help, and clear errors before and at the server', () => {
  const help = cli('app', '--help');
  assert.equal(help.status, 0, help.stderr);
  for (const word of ['check', 'publish', 'list']) assert.match(help.stdout, new RegExp(word));
  assert.match(cli('node', '--help').stdout, /--apps <which>/);
  const fixture = join(ROOT, 'test', 'fixtures', 'apps', 'tally');
  const noServer = cli('app', 'publish', fixture, '--token', 'x'.repeat(30));
  assert.equal(noServer.status, 1);
  assert.match(noServer.stderr, /--server <url> is required/);
  const noToken = spawnSync(process.execPath, [LAUNCHER, 'app', 'list', '--server', 'http://127.0.0.1:1'], {
    cwd: ROOT,
    encoding: 'utf8',
    timeout: 20_000,
    env: { ...process.env, LOCKSTEP_OWNER_TOKEN: '' },
  });
  assert.equal(noToken.status, 1);
  assert.match(noToken.stderr, /--token <owner token> is required/);
  const notAnApp = cli(
    'app',
    'publish',
    join(ROOT, 'docs'),
    '--server',
    'http://127.0.0.1:1',
    '--token',
    'x'.repeat(30),
  );
  assert.equal(notAnApp.status, 1);
  assert.match(notAnApp.stderr, /app\.json/);
  // Nothing listens on port 1: the error says so instead of hanging or crashing.
  const down = cli('app', 'publish', fixture, '--server', 'http://127.0.0.1:1', '--token', 'x'.repeat(30));
  assert.equal(down.status, 1);
  assert.match(down.stderr, /cannot reach http:\/\/127\.0\.0\.1:1/);
});

test('--advertise takes an http(s) origin and refuses paths, other schemes and junk', () => {
  assert.deepEqual(serverEnvFromOptions({ advertise: ' https://a.example:3000/ ' }), {
    LOCKSTEP_ADVERTISE: 'https://a.example:3000',
  });
  for (const bad of ['a.example:3000', 'ftp://a.example', 'http://a.example/path', 'http://a.example/?x=1', '']) {
    assert.throws(() => serverEnvFromOptions({ advertise: bad }), /--advertise/);
  }
});
