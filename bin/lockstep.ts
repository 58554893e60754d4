// The `lockstep` command: `server`, `node` (the one command for a spare PC) and
// `demo`. Flags become the LOCKSTEP_* variables the config loaders already read,
// so the CLI adds no second configuration path. Heavy modules (mediasoup, wrtc,
// canvas) are imported only inside actions so `--help` and flag errors are instant.
import { existsSync, readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Command, Option } from 'commander';
import { nodeEnvFromOptions, normalizeServerUrl, type NodeCliOptions } from '../render/cli-options.js';
import { parseIntFlag, serverEnvFromOptions, type ServerCliOptions } from '../server/cli-options.js';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

function stamp(): string {
  return new Date().toTimeString().slice(0, 8);
}

function message(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

function version(): string {
  try {
    const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version?: unknown };
    return typeof pkg.version === 'string' ? pkg.version : '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** Sets env before the config/logger modules are imported (they read it at load/create time). */
function applyEnv(env: Record<string, string>): void {
  for (const [k, v] of Object.entries(env)) process.env[k] = v;
}

/** Validation errors go through commander so they look like its own errors (exit 1). */
function validated<T>(cmd: Command, fn: () => T): T {
  try {
    return fn();
  } catch (err) {
    return cmd.error(`error: ${message(err)}`);
  }
}

function logLevelOption(): Option {
  // Logs are JSON on stderr; the CLI prints its own human lines, so default to quiet.
  return new Option('--log-level <level>', 'log level of the JSON logs on stderr')
    .choices(LOG_LEVELS)
    .default(process.env.LOCKSTEP_LOG_LEVEL ?? 'warn');
}

function warnIfViewerMissing(): void {
  if (!existsSync(join(ROOT, 'viewer/dist/viewer.js'))) {
    process.stderr.write(
      'warning: the viewer bundle is not built (viewer/dist/viewer.js); run `npm run setup` or `npm run build:viewer` so the browser page loads\n',
    );
  }
}

function lanAddresses(): string[] {
  return Object.values(networkInterfaces())
    .flatMap((list) => list ?? [])
    .filter((a) => a.family === 'IPv4' && !a.internal)
    .map((a) => a.address);
}

/**
 * The launcher forwards SIGINT/SIGTERM while the terminal also sends Ctrl-C to
 * the whole process group, so one Ctrl-C can arrive twice. runServer/runNode and
 * the demo stop on the first (`once`); this absorbs the copy, which would
 * otherwise kill the process mid-shutdown, and lets a later, deliberate second
 * Ctrl-C force the exit. Prepended so onFirst runs before the graceful handlers.
 */
function guardSignals(onFirst: (signal: NodeJS.Signals) => void): void {
  let firstAt = 0;
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.prependListener(signal, () => {
      const now = Date.now();
      if (firstAt === 0) {
        firstAt = now;
        onFirst(signal);
      } else if (now - firstAt > 1000) {
        say('forced exit');
        process.exit(130);
      }
    });
  }
}

interface ServerFlags extends ServerCliOptions {
  logLevel: string;
}

async function serverAction(flags: ServerFlags, cmd: Command): Promise<void> {
  const env = validated(cmd, () => serverEnvFromOptions(flags));
  for (const file of [flags.tlsCert, flags.tlsKey]) {
    if (file !== undefined && !existsSync(file)) cmd.error(`error: TLS file not found: ${file}`);
  }
  applyEnv({ ...env, LOCKSTEP_LOG_LEVEL: flags.logLevel });
  warnIfViewerMissing();
  const { runServer } = await import('../server/main.js');
  const server = await runServer().catch((err: unknown) => {
    process.stderr.write(`lockstep server: failed to start: ${message(err)}\n`);
    return process.exit(1);
  });
  say(`Lockstep server listening on ${server.url}`);
  if (server.newOwnerToken) {
    say('');
    say('  owner token (shown ONCE, only its hash is stored; keep it like a password):');
    say(`  LOCKSTEP_OWNER_TOKEN=${server.newOwnerToken}`);
    say(`  open ${server.url}/?token=${server.newOwnerToken}`);
    say('  lost it? `lockstep token rotate --data-dir <dir>` issues a new one');
    say('');
  } else {
    say(`open ${server.url}/?token=<your owner token> in a browser`);
  }

  // A wildcard bind URL (0.0.0.0) is not something to paste on another machine.
  const wildcard = ['0.0.0.0', '::'].includes(server.config.host);
  const lan = lanAddresses();
  const scheme = server.config.tls ? 'https' : 'http';
  const reachable = wildcard && lan.length > 0 ? lan.map((ip) => `${scheme}://${ip}:${server.port}`) : [server.url];
  if (wildcard) for (const u of reachable) say(`  on this network: ${u}/`);
  if (server.config.security.insecureDev) {
    say(
      `add a renderer node:  lockstep node --server ${reachable[0] ?? server.url} --token <any>  (insecure dev mode)`,
    );
  } else {
    say(`admit a renderer host:  lockstep token new --host <name> --data-dir ${server.config.dataDir}`);
    say(`then on that host:      lockstep node --server ${reachable[0] ?? server.url} --token <its token>`);
  }
  if (wildcard && server.config.mediasoup.announcedIp === undefined) {
    say(
      "note: media is announced on 127.0.0.1; for viewers/nodes on other machines add --listen-ip 0.0.0.0 --announced-ip <this machine's LAN IP>",
    );
  }
  guardSignals(() => say('shutting down'));
}

interface NodeFlags extends NodeCliOptions {
  logLevel: string;
}

async function nodeAction(flags: NodeFlags, cmd: Command): Promise<void> {
  const env = validated(cmd, () => nodeEnvFromOptions(flags));
  const url = env.LOCKSTEP_SERVER_URL ?? '';
  applyEnv({ ...env, LOCKSTEP_LOG_LEVEL: flags.logLevel });
  say(`joining ${url} ...`);
  const { runNode } = await import('../render/main.js');
  const node = await runNode().catch((err: unknown) => {
    // The socket keeps retrying in the background; exit instead of hanging.
    process.stderr.write(`lockstep node: could not join ${url}: ${message(err)}\n`);
    return process.exit(1);
  });
  say(`joined ${url} as node ${node.config.nodeId} on host ${node.hostId ?? node.config.hostId}`);

  // Remember each replica's session: the Map entry is gone by the time 'replicaremoved' fires.
  const sessionOf = new Map<string, string>();
  node.on('replicaadded', (id) => {
    const sessionId = node.replicas.get(id)?.sessionId ?? '?';
    sessionOf.set(id, sessionId);
    say(`[${stamp()}] + hosting replica ${id} of session ${sessionId} (${node.replicas.size} hosted)`);
  });
  node.on('replicaremoved', (id) => {
    const sessionId = sessionOf.get(id) ?? '?';
    sessionOf.delete(id);
    say(`[${stamp()}] - stopped hosting replica ${id} of session ${sessionId} (${node.replicas.size} hosted)`);
  });
  let leaving = false;
  node.on('disconnected', (reason) => {
    // Our own leave closes the socket too; that is not a lost server.
    if (!leaving) say(`[${stamp()}] lost the server (${reason}); reconnecting ...`);
  });
  // 'registered' fires again on every reconnect; the first one happened inside runNode.
  node.on('registered', () => say(`[${stamp()}] rejoined ${url}`));

  const status = setInterval(() => {
    const parts = [...node.replicas].map(([id, r]) => `${id} (session ${r.sessionId}) seq ${r.appliedSeq}`);
    say(`[${stamp()}] status: ${plural(parts.length, 'replica')} hosted${parts.length ? `: ${parts.join(', ')}` : ''}`);
  }, 10_000);
  status.unref();

  // runNode's own handler does the graceful leave; this one only reports it.
  guardSignals(() => {
    leaving = true;
    clearInterval(status);
    say(`leaving: handing ${plural(node.replicas.size, 'replica')} back`);
  });
}

interface TokenRotateFlags {
  dataDir?: string;
  ttlDays?: string;
  shares?: boolean;
}

async function tokenRotateAction(flags: TokenRotateFlags, cmd: Command): Promise<void> {
  const dataDir = dataDirOf(flags);
  const ttlDays = validated(cmd, () => parseIntFlag('--ttl-days', flags.ttlDays ?? '90', 1, 3650));
  if (!existsSync(join(dataDir, 'lockstep.sqlite'))) cmd.error(`error: no Lockstep database in ${dataDir}`);
  const { rotateOperatorToken } = await import('../server/token-admin.js');
  const r = await rotateOperatorToken(dataDir, { ttlDays, shares: flags.shares === true });
  say(`revoked ${plural(r.revoked, 'token')}; live connections using them are dropped within seconds`);
  say(`LOCKSTEP_OWNER_TOKEN=${r.token}`);
  say(`expires ${new Date(r.expiresAt).toISOString()}`);
  if (process.env.LOCKSTEP_OWNER_TOKEN) {
    say('note: LOCKSTEP_OWNER_TOKEN is set in this environment; the server re-validates it at every start');
  }
}

interface TokenNewFlags {
  host?: string;
  maxReplicas?: string;
  maxCores?: string;
  ttlDays?: string;
  dataDir?: string;
}

async function tokenNewAction(flags: TokenNewFlags, cmd: Command): Promise<void> {
  const admin = await import('../server/token-admin.js');
  if (flags.host === undefined) {
    say(admin.generateSecret());
    return;
  }
  const hostId = flags.host;
  const caps = validated(cmd, () => {
    if (!/^[A-Za-z0-9_.:-]{1,64}$/.test(hostId)) throw new Error('--host must be 1-64 characters of [A-Za-z0-9_.:-]');
    return {
      maxReplicas:
        flags.maxReplicas === undefined ? undefined : parseIntFlag('--max-replicas', flags.maxReplicas, 1, 1024),
      maxCores: flags.maxCores === undefined ? undefined : parseIntFlag('--max-cores', flags.maxCores, 1, 1024),
      ttlDays: flags.ttlDays === undefined ? undefined : parseIntFlag('--ttl-days', flags.ttlDays, 1, 3650),
    };
  });
  const dataDir = dataDirOf(flags);
  if (!existsSync(join(dataDir, 'lockstep.sqlite'))) cmd.error(`error: no Lockstep database in ${dataDir}`);
  const issued = await admin
    .admitHost(dataDir, hostId, caps, caps.ttlDays)
    .catch((err: unknown) => cmd.error(`error: ${message(err)}`));
  say(`join token for host ${hostId} (shown ONCE; only its hash is stored):`);
  say(issued.secret);
  say(`on that machine:  lockstep node --server http://<server>:3000 --token ${issued.secret}`);
  say(`expires ${new Date(issued.expiresAt).toISOString()}; revoke with \`lockstep hosts revoke ${hostId}\``);
}

async function hostsListAction(flags: { dataDir?: string }, cmd: Command): Promise<void> {
  const dataDir = dataDirOf(flags);
  if (!existsSync(join(dataDir, 'lockstep.sqlite'))) cmd.error(`error: no Lockstep database in ${dataDir}`);
  const { listHosts } = await import('../server/token-admin.js');
  const hosts = await listHosts(dataDir);
  if (hosts.length === 0) say('no admitted hosts (admit one with `lockstep token new --host <name>`)');
  for (const h of hosts) {
    const caps = [
      h.maxReplicas === null ? null : `max ${plural(h.maxReplicas, 'replica')}`,
      h.maxCores === null ? null : `max ${plural(h.maxCores, 'core')}`,
    ].filter(Boolean);
    say(
      `${h.hostId}  token ${h.tokenId}  expires ${new Date(h.expiresAt).toISOString()}${caps.length ? `  ${caps.join(', ')}` : ''}`,
    );
  }
}

async function hostsRevokeAction(hostId: string, flags: { dataDir?: string }, cmd: Command): Promise<void> {
  const dataDir = dataDirOf(flags);
  if (!existsSync(join(dataDir, 'lockstep.sqlite'))) cmd.error(`error: no Lockstep database in ${dataDir}`);
  const { revokeHost } = await import('../server/token-admin.js');
  const n = await revokeHost(dataDir, hostId).catch((err: unknown) => cmd.error(`error: ${message(err)}`));
  say(
    `revoked host ${hostId} (${plural(n, 'credential')}); its nodes are dropped within seconds and their replicas re-placed`,
  );
}

async function tokenRevokeNodesAction(flags: { dataDir?: string }, cmd: Command): Promise<void> {
  const dataDir = dataDirOf(flags);
  if (!existsSync(join(dataDir, 'lockstep.sqlite'))) cmd.error(`error: no Lockstep database in ${dataDir}`);
  const { revokeNodeCredentials } = await import('../server/token-admin.js');
  const n = await revokeNodeCredentials(dataDir);
  say(`revoked ${plural(n, 'node credential')}; nodes must re-join with the join token`);
}

function dataDirOf(flags: { dataDir?: string }): string {
  return flags.dataDir ?? process.env.LOCKSTEP_DATA_DIR ?? join(process.cwd(), 'data');
}

async function dbCheckAction(flags: { dataDir?: string }, cmd: Command): Promise<void> {
  const { checkDataDir } = await import('../server/db-admin.js');
  const r = await Promise.resolve()
    .then(() => checkDataDir(dataDirOf(flags)))
    .catch((err: unknown) => cmd.error(`error: ${message(err)}`));
  if (r.ok) {
    say(`${r.file}: ok (integrity check passed)`);
    return;
  }
  say(`${r.file}: DAMAGED (${plural(r.problems.length, 'problem')})`);
  for (const p of r.problems) say(`  ${p}`);
  say('restore the latest `lockstep db backup` copy in its place (with the server stopped)');
  process.exitCode = 2;
}

async function dbBackupAction(dest: string, flags: { dataDir?: string }, cmd: Command): Promise<void> {
  const { backupDataDir } = await import('../server/db-admin.js');
  const r = await backupDataDir(dataDirOf(flags), dest).catch((err: unknown) => cmd.error(`error: ${message(err)}`));
  say(`backed up ${plural(r.pages, 'page')} to ${r.file} (checked: ok)`);
}

interface DemoFlags {
  port?: string;
  nodes?: string;
  dataDir?: string;
  logLevel: string;
}

async function demoAction(flags: DemoFlags, cmd: Command): Promise<void> {
  const env = validated(cmd, () => {
    const e: Record<string, string> = {};
    if (flags.port !== undefined) e.LOCKSTEP_PORT = String(parseIntFlag('--port', flags.port, 0, 65535));
    if (flags.nodes !== undefined) e.LOCKSTEP_DEMO_NODES = String(parseIntFlag('--nodes', flags.nodes, 1, 16));
    if (flags.dataDir !== undefined) {
      if (flags.dataDir.trim() === '') throw new Error('--data-dir must not be empty');
      e.LOCKSTEP_DATA_DIR = flags.dataDir;
    }
    return e;
  });
  applyEnv({ ...env, LOCKSTEP_LOG_LEVEL: flags.logLevel });
  warnIfViewerMissing();
  const nodes = process.env.LOCKSTEP_DEMO_NODES ?? '3';
  say(`starting the demo: one server and ${nodes} renderer nodes on this machine (first start can take a few seconds)`);
  guardSignals((signal) => {
    // Before the demo installs its own handler (still starting up) nobody else
    // handles the signal; exit, and the process helpers kill the children at exit.
    if (process.listenerCount(signal) <= 1) {
      say('[demo] stopping');
      process.exit(130);
    }
  });
  // scripts/demo.ts runs on import and owns its lifecycle (exits on failure or Ctrl-C).
  await import('../scripts/demo.js');
}

interface AppCheckCliOptions {
  seed?: string;
  steps?: string;
  width?: string;
  height?: string;
  restoreEvery?: string;
}

async function appCheckAction(folder: string, opts: AppCheckCliOptions): Promise<void> {
  const { runAppCheck } = await import('../render/app-check/app-check.js');
  const int = (v: string | undefined, flag: string, fallback: number, min: number, max: number): number =>
    v === undefined ? fallback : parseIntFlag(flag, v, min, max);
  const report = await runAppCheck({
    dir: folder,
    seed: int(opts.seed, '--seed', 1, 0, 2 ** 31),
    steps: int(opts.steps, '--steps', 300, 1, 100_000),
    width: int(opts.width, '--width', 640, 64, 3840),
    height: int(opts.height, '--height', 480, 64, 2160),
    restoreEvery: int(opts.restoreEvery, '--restore-every', 25, 1, 100_000),
  });
  const what = `${report.app}: ${plural(report.steps, 'step')}, ${plural(report.restores, 'restore')}, ${report.elapsedMs} ms`;
  if (report.error) throw new Error(`${what}: ${report.error}`);
  if (report.divergence) {
    const d = report.divergence;
    if (d.what === 'status hash tracking') {
      throw new Error(`${what}: the status hash (stateDigest) did not change with the state at seq ${d.seq}`);
    }
    throw new Error(
      `${what}: ${d.what} differ at seq ${d.seq}${d.afterRestore ? ' (right after a snapshot/restore)' : ''}: not deterministic`,
    );
  }
  say(`${what}: state hashes, status hashes and pixels equal at every step in both processes`);
}

interface ServerTokenFlags {
  server?: string;
  token?: string;
}

/** --server (origin) and --token (or LOCKSTEP_OWNER_TOKEN) for the commands that call the server's REST API. */
function serverAndToken(flags: ServerTokenFlags): { url: string; token: string } {
  if (flags.server === undefined || flags.server.trim() === '') throw new Error('--server <url> is required');
  const token = flags.token ?? process.env.LOCKSTEP_OWNER_TOKEN ?? '';
  if (token === '') throw new Error('--token <owner token> is required (or LOCKSTEP_OWNER_TOKEN)');
  return { url: normalizeServerUrl(flags.server), token };
}

async function appPublishAction(folder: string, flags: ServerTokenFlags, cmd: Command): Promise<void> {
  const { url, token } = validated(cmd, () => serverAndToken(flags));
  const { packAppFolder } = await import('../render/bundle/pack-folder.js');
  const { publishBundle } = await import('../render/bundle/publish-client.js');
  const packed = validated(cmd, () => packAppFolder(folder));
  const { app, created } = await publishBundle(url, token, packed);
  say(`${created ? 'published' : 'already published'} ${app.name}@${app.version} (${plural(app.size, 'byte')})`);
  say(`hash ${app.hash}`);
  say(`start a session with it: app "${app.name}@${app.version}" or "${app.hash}"`);
}

async function appListAction(flags: ServerTokenFlags, cmd: Command): Promise<void> {
  const { url, token } = validated(cmd, () => serverAndToken(flags));
  const { listPublished } = await import('../render/bundle/publish-client.js');
  const apps = await listPublished(url, token);
  if (apps.length === 0) {
    say('no published apps');
    return;
  }
  for (const a of apps) {
    say(
      `${a.name}@${a.version}  ${a.hash}  ${plural(a.size, 'byte')}  by ${a.publisher}  ${new Date(a.publishedAt).toISOString()}`,
    );
  }
}

function buildProgram(): Command {
  const program = new Command('lockstep')
    .description('Lockstep: thin-client streaming where the session survives the death of the machine running it')
    .version(version(), '-v, --version')
    .showHelpAfterError('(run with --help for usage)')
    .addHelpText(
      'after',
      `
Quick start:
  $ lockstep demo                                 everything on this machine
  on the server machine (its LAN IP, here 192.168.1.10):
  $ lockstep server --host 0.0.0.0 --listen-ip 0.0.0.0 --announced-ip 192.168.1.10
  $ lockstep token new --host spare-pc-1          one join token per spare PC
  on that spare PC:
  $ lockstep node --server http://192.168.1.10:3000 --token <its token>

Run \`lockstep <command> --help\` for a command's flags.`,
    );

  program
    .command('server')
    .description('run the Lockstep server (sequencer, placement, WebRTC SFU and the viewer page)')
    .option('-p, --port <n>', 'HTTP port, 0 picks a free one (default: 3000)')
    .option('--host <host>', 'address to listen on; 0.0.0.0 for other machines (default: 127.0.0.1)')
    .option('--data-dir <dir>', 'directory for the SQLite database (default: ./data)')
    .option('--store <spec>', 'input log: sqlite, sqlite:PATH or etcd:URL,URL,URL (default: sqlite in --data-dir)')
    .option(
      '--advertise <url>',
      'with --store etcd: the URL nodes, viewers and other servers reach this server at (needs LOCKSTEP_CLUSTER_SECRET)',
    )
    .option('--etcd-ca <pem>', "with --store etcd:https://…: the CA that signed the etcd members' certificates")
    .option(
      '--etcd-cert <pem>',
      "with --store etcd: this server's client certificate (members run with --client-cert-auth)",
    )
    .option('--etcd-key <pem>', 'the private key of --etcd-cert')
    .option('--announced-ip <ip>', "IP announced in ICE candidates, e.g. this machine's LAN address")
    .option('--listen-ip <ip>', 'IP the WebRTC transports listen on (default: 127.0.0.1)')
    .option('--rtc-min-port <n>', 'lowest WebRTC media port (default: 40000)')
    .option('--rtc-max-port <n>', 'highest WebRTC media port (default: 49999)')
    .option('--workers <n>', 'mediasoup worker processes (default: CPU count)')
    .option('--tls-cert <file>', 'TLS certificate (PEM); with --tls-key serves HTTPS')
    .option('--tls-key <file>', 'TLS private key (PEM)')
    .option(
      '--join-token <token>',
      'development only (with LOCKSTEP_INSECURE_DEV=1): one shared join token for all nodes; otherwise admit each host with `lockstep token new --host`',
    )
    .option(
      '--owner-token <token>',
      'operator owner token (or LOCKSTEP_OWNER_TOKEN); default: generated and printed once',
    )
    .addOption(logLevelOption())
    .addHelpText(
      'after',
      `
Examples:
  $ lockstep server
  $ lockstep server --host 0.0.0.0 --listen-ip 0.0.0.0 --announced-ip 192.168.1.10
  $ lockstep server --host 0.0.0.0 --tls-cert cert.pem --tls-key key.pem
  then admit each renderer host:  lockstep token new --host <name>`,
    )
    .action(serverAction);

  program
    .command('node')
    .description('join a Lockstep server as a renderer node and host session replicas (run on each spare PC)')
    .requiredOption(
      '-s, --server <url>',
      'server URL, e.g. http://192.168.1.10:3000; several comma-separated ones to move to the next when one dies',
    )
    .option('-t, --token <token>', "this host's join token from the server operator (`lockstep token new --host`)")
    .option('--host-id <id>', 'host identity; replicas of one session never share a host (default: hostname)')
    .option('--node-id <id>', 'node identity (default: <host-id>-<pid>)')
    .option('--max-replicas <n>', 'most replicas this node hosts (default: 2 x CPU count)')
    .option('--max-fps <n>', 'frame rate cap per replica, 1-60 (default: 30)')
    .option(
      '--apps <which>',
      'what this PC runs: builtin (only the apps that come with Lockstep), published (also any published app, sandboxed), or comma-separated bundle hashes (default: builtin)',
    )
    .addOption(logLevelOption())
    .addHelpText(
      'after',
      `
Ctrl-C leaves gracefully: the server re-places this node's replicas before it exits.

Example:
  $ lockstep node --server http://192.168.1.10:3000 --token <this host's join token>`,
    )
    .action(nodeAction);

  const token = program.command('token').description('credentials: generate secrets, rotate the owner token');
  token
    .command('new')
    .description('admit a renderer host (--host: a join token bound to it), or print a new random secret')
    .option('--host <id>', 'the machine to admit: its nodes get this host id and only this token’s caps')
    .option('--max-replicas <n>', 'with --host: most replicas its nodes may host together')
    .option('--max-cores <n>', 'with --host: most cores its nodes may claim')
    .option('--ttl-days <n>', 'with --host: lifetime of the join token (default: 365)')
    .option('--data-dir <dir>', "with --host: the server's data directory (default: ./data)")
    .action(tokenNewAction);
  token
    .command('rotate')
    .description("revoke the operator's owner tokens and print a new one (works while the server runs)")
    .option('--data-dir <dir>', "the server's data directory (default: ./data)")
    .option('--ttl-days <n>', 'lifetime of the new token (default: 90)')
    .option('--shares', 'also revoke every share link the operator created')
    .action(tokenRotateAction);
  token
    .command('revoke-nodes')
    .description('revoke every node credential: nodes must re-join with the join token')
    .option('--data-dir <dir>', "the server's data directory (default: ./data)")
    .action(tokenRevokeNodesAction);

  const hosts = program
    .command('hosts')
    .description('admitted renderer hosts (one join token each); `hosts revoke <id>` drops one')
    .option('--data-dir <dir>', "the server's data directory (default: ./data)")
    .action(hostsListAction);
  hosts
    .command('revoke')
    .description("revoke a host's join token and its nodes' credentials; its replicas are re-placed")
    .argument('<host>', 'the host id')
    .option('--data-dir <dir>', "the server's data directory (default: ./data)")
    .action(hostsRevokeAction);

  const db = program.command('db').description("the server's database: check it, back it up (safe while it runs)");
  db.command('check')
    .description('full integrity check of the database; exits 2 when it is damaged')
    .option('--data-dir <dir>', "the server's data directory (default: ./data)")
    .action(dbCheckAction);
  db.command('backup')
    .description(
      "copy the database with SQLite's online backup (consistent while the server writes), then check the copy",
    )
    .argument('<file>', 'where to write the copy (must not exist)')
    .option('--data-dir <dir>', "the server's data directory (default: ./data)")
    .action(dbBackupAction);

  const app = program
    .command('app')
    .description('apps: check that an app folder is deterministic, publish it, list published apps');
  app
    .command('publish <folder>')
    .description(
      'pack an app folder (manifest, compiled code, fonts) into one bundle, hash it (sha-256) and upload it to the server',
    )
    .option('-s, --server <url>', 'server URL, e.g. http://192.168.1.10:3000')
    .option('-t, --token <token>', 'an owner token (default: LOCKSTEP_OWNER_TOKEN)')
    .action(appPublishAction);
  app
    .command('list')
    .description('list the apps published on the server (name, version, hash, size, publisher)')
    .option('-s, --server <url>', 'server URL, e.g. http://192.168.1.10:3000')
    .option('-t, --token <token>', 'an owner token (default: LOCKSTEP_OWNER_TOKEN)')
    .action(appListAction);
  app
    .command('check <folder>')
    .description(
      'replay a generated input log (keys, pointer, wheel, paste, image import parts, resize) in two processes, one restoring from snapshots, and compare state hashes and pixels at every step',
    )
    .option('--seed <n>', 'seed of the generated log (default: 1)')
    .option('--steps <n>', 'inputs to replay (default: 300)')
    .option('--width <n>', 'surface width (default: 640)')
    .option('--height <n>', 'surface height (default: 480)')
    .option('--restore-every <n>', 'the second process restores from a snapshot this often (default: 25)')
    .action(appCheckAction);

  program
    .command('demo')
    .description('run a server and renderer nodes on this machine with one writer session, and print the viewer URL')
    .option('-p, --port <n>', 'server port (default: 3000)')
    .option('--nodes <n>', 'renderer nodes to start, each standing for a host (default: 3)')
    .option('--data-dir <dir>', 'directory for the SQLite database (default: ./data)')
    .addOption(logLevelOption())
    .action(demoAction);

  return program;
}

buildProgram()
  .parseAsync(process.argv)
  .catch((err: unknown) => {
    process.stderr.write(`lockstep: ${message(err)}\n`);
    process.exit(1);
  });
