// Starts real server and renderer node processes on this machine: the demos,
// the chaos run, the benchmarks and the integration/e2e tests all start the
// product through here. Every process started here is tracked and killed by
// stopAll() (and at exit), so no caller leaves one behind.
import { spawn } from 'node:child_process';
import { appendFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostTokenFor, rememberServer, secretsForDataDir } from './cluster-secrets.js';
import type { Proc, ServerProc } from './launcher-types.js';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export type { Proc, ServerProc } from './launcher-types.js';

const live = new Set<Proc>();
const killers = new WeakMap<Proc, (sig: NodeJS.Signals) => void>();

function launch(
  name: string,
  script: string | string[],
  env: Record<string, string>,
  readyPattern: RegExp,
  timeoutMs = 60_000,
  netns?: string,
  cwd = ROOT,
  /** Own process group, killed as a whole: for commands that start children of their own. */
  group = false,
) {
  // A product script of this checkout through tsx, or node arguments as given.
  const nodeArgs = typeof script === 'string' ? ['--import', 'tsx', join(ROOT, script)] : script;
  // In a test host's network namespace, `ip netns exec` execs node in place:
  // the child pid is node's, so signals reach it directly.
  const [cmd, args] = netns
    ? ['ip', ['netns', 'exec', netns, process.execPath, ...nodeArgs]]
    : [process.execPath, nodeArgs];
  const child = spawn(cmd, args, {
    cwd,
    env: {
      ...process.env,
      LOCKSTEP_LOG_LEVEL: process.env.LOCKSTEP_LOG_LEVEL ?? 'warn',
      LOCKSTEP_PROC_NAME: name,
      ...env,
    },
    stdio: ['ignore', 'pipe', 'pipe'],
    detached: group,
  });
  const signal = (sig: NodeJS.Signals) => {
    if (group && child.pid !== undefined) {
      try {
        process.kill(-child.pid, sig);
      } catch {
        // the group is gone already
      }
    } else child.kill(sig);
  };
  let out = '';
  // LOCKSTEP_PROC_LOG_DIR: every process's output is also appended to <dir>/<name>.log (traces of a chaos run).
  const logDir = process.env.LOCKSTEP_PROC_LOG_DIR;
  const logFile = logDir ? join(logDir, `${name}.log`) : null;
  const keep = (d: Buffer) => {
    if (logFile) appendFileSync(logFile, d);
    out += d.toString();
    if (out.length > 200_000) out = out.slice(-100_000);
  };
  child.stdout.on('data', keep);
  child.stderr.on('data', keep);
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const proc: Proc = {
    name,
    child,
    exited,
    output: () => out,
    async kill(sig: NodeJS.Signals = 'SIGKILL') {
      if (child.exitCode === null && child.signalCode === null) signal(sig);
      const timer = setTimeout(() => signal('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
      live.delete(proc);
    },
  };
  live.add(proc);
  killers.set(proc, signal);
  void exited.then(() => live.delete(proc));
  const ready = new Promise<RegExpMatchArray>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${name} not ready after ${timeoutMs} ms:\n${out.slice(-3000)}`)),
      timeoutMs,
    );
    const check = () => {
      const m = out.match(readyPattern);
      if (m) {
        clearTimeout(timer);
        child.stdout.off('data', check);
        resolve(m);
      }
    };
    child.stdout.on('data', check);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited (${code ?? signal}) before ready:\n${out.slice(-3000)}`));
    });
  });
  return { proc, ready };
}

/**
 * Starts server/main.ts with a generated owner token and join token (the same
 * ones again on a restart with the same dataDir). `env` may override them; with
 * LOCKSTEP_OWNER_TOKEN set to '' the server generates and prints its own.
 */
export async function startServer(
  opts: {
    dataDir?: string;
    port?: number;
    env?: Record<string, string>;
    /** Run inside this network namespace (a server machine with its own network stack). */
    netns?: string;
    /** Process name in logs (default `server`). */
    name?: string;
  } = {},
): Promise<ServerProc> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), 'lockstep-data-'));
  // Servers on one etcd share their credentials (those live in etcd): one owner token for the cluster.
  const store = opts.env?.LOCKSTEP_STORE;
  const secrets = secretsForDataDir(store?.startsWith('etcd:') ? store : dataDir);
  const env = {
    LOCKSTEP_PORT: String(opts.port ?? 0),
    LOCKSTEP_DATA_DIR: dataDir,
    LOCKSTEP_MEDIASOUP_WORKERS: '1',
    LOCKSTEP_OWNER_TOKEN: secrets.ownerToken,
    ...opts.env,
  };
  const { proc, ready } = launch(
    opts.name ?? 'server',
    'server/main.ts',
    env,
    /LOCKSTEP_SERVER_URL=(\S+)/,
    60_000,
    opts.netns,
  );
  const m = await ready;
  const url = m[1] ?? '';
  const printed = /^LOCKSTEP_OWNER_TOKEN=(\S+)$/m.exec(proc.output())?.[1];
  const ownerToken = printed ?? env.LOCKSTEP_OWNER_TOKEN;
  if (printed) secrets.ownerToken = printed;
  secrets.ownerToken = ownerToken;
  rememberServer(url, secrets);
  return Object.assign(proc, { url, dataDir, ownerToken, hostToken: (hostId: string) => hostTokenFor(url, hostId) });
}

export async function startNode(opts: {
  url: string;
  hostId: string;
  nodeId?: string;
  env?: Record<string, string>;
  /** Run inside this network namespace (a test host with its own network stack). */
  netns?: string;
}): Promise<Proc> {
  const { proc, ready } = launch(
    `node-${opts.hostId}`,
    'render/main.ts',
    {
      LOCKSTEP_SERVER_URL: opts.url,
      LOCKSTEP_HOST_ID: opts.hostId,
      LOCKSTEP_NODE_ID: opts.nodeId ?? opts.hostId,
      // This host's join token at the server started at this URL (override with env to test refusals).
      LOCKSTEP_JOIN_TOKEN: opts.env?.LOCKSTEP_JOIN_TOKEN ?? (await hostTokenFor(opts.url, opts.hostId)),
      ...opts.env,
    },
    /LOCKSTEP_NODE_READY/,
    60_000,
    opts.netns,
  );
  await ready;
  return proc;
}

/**
 * Runs `lockstep node` (bin/lockstep.mjs) of the checkout at `checkout`, the
 * command a spare PC runs, and resolves once it has joined the server.
 */
export async function startNodeCommand(opts: {
  checkout: string;
  url: string;
  hostId: string;
  token?: string;
  env?: Record<string, string>;
}): Promise<Proc> {
  const args = [join(opts.checkout, 'bin/lockstep.mjs'), 'node', '--server', opts.url, '--host-id', opts.hostId];
  const token = opts.token ?? (await hostTokenFor(opts.url, opts.hostId));
  const { proc, ready } = launch(
    `node-cli-${opts.hostId}`,
    [...args, '--token', token],
    opts.env ?? {},
    /joined \S+ as node/,
    60_000,
    undefined,
    opts.checkout,
    // bin/lockstep.mjs re-execs node on bin/lockstep.ts: a kill must reach both.
    true,
  );
  await ready;
  return proc;
}

export async function stopAll(): Promise<void> {
  await Promise.all([...live].map((p) => p.kill('SIGKILL')));
}

export function removeDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}

process.once('exit', () => {
  for (const p of live) (killers.get(p) ?? ((sig) => p.child.kill(sig)))('SIGKILL');
});
