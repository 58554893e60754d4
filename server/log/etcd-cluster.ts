// A local etcd cluster: N members of Debian's etcd 3.4 on one address, each on
// free ports with its own data dir, tuned for fast elections. The tests, the
// benches and (later) `demo:cluster` start their etcd through this; it is
// product code because product scripts need it, not a test double. Every
// process it starts is killed by close() and, failing that, at process exit.
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getLogger } from '../../protocol/logger.js';
import type { EtcdClusterOptions, EtcdMemberExit, EtcdMemberInfo } from './etcd-cluster-types.js';

const log = getLogger('etcd-cluster');

/** etcd did not start, became unhealthy or has no leader within the bound. */
export class EtcdClusterError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'EtcdClusterError';
  }
}

interface Member {
  info: EtcdMemberInfo;
  args: string[];
  child: ChildProcess | null;
  exited: Promise<void>;
  /** What the running process (or the last one) wrote, at most 20 kB. */
  output: string;
  /** The output of the process that exited last, for reports. */
  lastOutput: string;
  /** Set by stop()/kill()/close() before signalling: an exit without it is a crash. */
  stopping: boolean;
  /** How the last process of this member ended (null while it never ran or still runs). */
  lastExit: EtcdMemberExit | null;
}

const running = new Set<ChildProcess>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort: a crashed test or script must not leave etcd members behind.
  process.once('exit', () => {
    for (const child of running) child.kill('SIGKILL');
  });
}

/**
 * A port free on `host` right now, below the kernel's ephemeral range: a
 * member stopped and restarted on the same ports must find them unused, and
 * a port from the ephemeral range can meanwhile be taken as the local end of
 * any outgoing connection (etcd clients reconnecting during the outage did).
 */
async function freePort(host: string): Promise<number> {
  const ephemeralLow = ephemeralRangeStart();
  const low = Math.max(1024, ephemeralLow - 12_000);
  for (let attempt = 0; attempt < 200; attempt++) {
    const port = low + Math.floor(Math.random() * (ephemeralLow - low));
    if (await canListen(host, port)) return port;
  }
  throw new EtcdClusterError(`no free port below ${ephemeralLow} on ${host}`);
}

/** The first port of the kernel's ephemeral range (Linux), or the IANA default elsewhere. */
function ephemeralRangeStart(): number {
  try {
    const low = Number(readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8').trim().split(/\s+/)[0]);
    return Number.isInteger(low) && low > 2048 ? low : 49152;
  } catch {
    return 49152;
  }
}

function canListen(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', () => resolve(false));
    srv.listen(port, host, () => srv.close(() => resolve(true)));
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export class EtcdCluster {
  readonly #members: Member[];
  readonly #root: string;
  readonly #ownsRoot: boolean;
  readonly #startTimeoutMs: number;
  readonly #binary: string;
  #closed = false;

  private constructor(members: Member[], root: string, ownsRoot: boolean, binary: string, startTimeoutMs: number) {
    this.#members = members;
    this.#root = root;
    this.#ownsRoot = ownsRoot;
    this.#binary = binary;
    this.#startTimeoutMs = startTimeoutMs;
  }

  /** Starts every member and resolves once all are healthy and a leader is elected. */
  static async create(options: EtcdClusterOptions = {}): Promise<EtcdCluster> {
    const n = options.members ?? 3;
    if (!Number.isInteger(n) || n < 1 || n > 9) throw new EtcdClusterError(`members must be 1..9, got ${n}`);
    const host = options.host ?? '127.0.0.1';
    const ownsRoot = options.dataDir === undefined;
    const root = options.dataDir ?? mkdtempSync(join(tmpdir(), 'lockstep-etcd-'));
    mkdirSync(root, { recursive: true });
    const token = `lockstep-${randomBytes(6).toString('hex')}`;
    const specs: Array<{ name: string; client: number; peer: number }> = [];
    for (let i = 0; i < n; i++) {
      specs.push({ name: `etcd-${i}`, client: await freePort(host), peer: await freePort(host) });
    }
    const initialCluster = specs.map((s) => `${s.name}=http://${host}:${s.peer}`).join(',');
    const members: Member[] = specs.map((s) => {
      const clientUrl = `http://${host}:${s.client}`;
      const peerUrl = `http://${host}:${s.peer}`;
      const dataDir = join(root, s.name);
      // Flags are the same for a first start and a restart: with an existing data
      // dir etcd ignores the initial-cluster ones and rejoins as itself.
      const args = [
        `--name=${s.name}`,
        `--data-dir=${dataDir}`,
        `--listen-client-urls=${clientUrl}`,
        `--advertise-client-urls=${clientUrl}`,
        `--listen-peer-urls=${peerUrl}`,
        `--initial-advertise-peer-urls=${peerUrl}`,
        `--initial-cluster=${initialCluster}`,
        `--initial-cluster-token=${token}`,
        '--initial-cluster-state=new',
        `--heartbeat-interval=${options.heartbeatIntervalMs ?? 25}`,
        `--election-timeout=${options.electionTimeoutMs ?? 250}`,
        '--logger=zap',
        '--log-level=warn',
      ];
      return {
        info: { name: s.name, clientUrl, peerUrl, dataDir, pid: null },
        args,
        child: null,
        exited: Promise.resolve(),
        output: '',
        lastOutput: '',
        stopping: false,
        lastExit: null,
      };
    });
    const cluster = new EtcdCluster(
      members,
      root,
      ownsRoot,
      options.binary ?? 'etcd',
      options.startTimeoutMs ?? 20_000,
    );
    try {
      for (let i = 0; i < n; i++) cluster.#spawn(i);
      await cluster.waitHealthy();
    } catch (err) {
      await cluster.close();
      throw err;
    }
    log.info({ members: n, urls: cluster.clientUrls }, 'etcd cluster up');
    return cluster;
  }

  get size(): number {
    return this.#members.length;
  }

  get clientUrls(): string[] {
    return this.#members.map((m) => m.info.clientUrl);
  }

  members(): EtcdMemberInfo[] {
    return this.#members.map((m) => ({ ...m.info }));
  }

  isRunning(i: number): boolean {
    return this.#member(i).child !== null;
  }

  /** The index of the current Raft leader among the running members, or null if none answers as leader. */
  async leader(): Promise<number | null> {
    for (let i = 0; i < this.#members.length; i++) {
      if (!this.isRunning(i)) continue;
      const status = await this.#status(i);
      if (status && status.leader !== '0' && status.leader === status.memberId) return i;
    }
    return null;
  }

  /** Resolves when every running member reports healthy (which implies a leader and quorum). */
  async waitHealthy(timeoutMs = this.#startTimeoutMs): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const up = this.#members.map((_, i) => i).filter((i) => this.isRunning(i));
      const health = await Promise.all(up.map((i) => this.#healthy(i)));
      if (health.every(Boolean)) return;
      if (Date.now() > deadline) {
        const bad = up.filter((_, k) => !health[k]).map((i) => this.#member(i).info.name);
        throw new EtcdClusterError(
          `etcd members not healthy after ${timeoutMs} ms: ${bad.join(', ')}\n${this.report()}`,
        );
      }
      await sleep(50);
    }
  }

  /** Resolves with the leader's index once one is elected among the running members. */
  async waitLeader(timeoutMs = this.#startTimeoutMs): Promise<number> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const leader = await this.leader();
      if (leader !== null) return leader;
      if (Date.now() > deadline) throw new EtcdClusterError(`no etcd leader after ${timeoutMs} ms`);
      await sleep(20);
    }
  }

  /** SIGKILL: the member dies mid-write, as on power loss (its data dir stays). */
  kill(i: number): Promise<void> {
    return this.#signal(i, 'SIGKILL');
  }

  /** SIGTERM: a clean stop (its data dir stays). */
  stop(i: number): Promise<void> {
    return this.#signal(i, 'SIGTERM');
  }

  /** SIGSTOP / SIGCONT: a hung member that keeps its sockets open. */
  pause(i: number): void {
    this.#member(i).child?.kill('SIGSTOP');
  }

  resume(i: number): void {
    this.#member(i).child?.kill('SIGCONT');
  }

  /**
   * Starts stopped members again, all at once, on their ports and data dirs,
   * and resolves when each of them is healthy. Healthy means the member sees a
   * leader and can serve a quorum read, so members restarted together can
   * give each other the quorum: restart(0, 1) after stop(0) and stop(1) does
   * not depend on member 2 still running, as one-by-one restarts did. Throws
   * at once if a restarted member exits, and after the start timeout naming
   * every member's state (see report()).
   */
  async restart(...indices: number[]): Promise<void> {
    if (this.#closed) throw new EtcdClusterError('cluster is closed');
    const started = [...new Set(indices)].filter((i) => !this.isRunning(i));
    for (const i of started) this.#spawn(i);
    const deadline = Date.now() + this.#startTimeoutMs;
    let pending = started;
    while (pending.length > 0) {
      const exited = pending.filter((i) => !this.isRunning(i));
      if (exited.length > 0) {
        const names = exited.map((i) => this.#member(i).info.name).join(', ');
        throw new EtcdClusterError(`${names} exited while restarting:\n${this.report()}`);
      }
      if (Date.now() > deadline) {
        const names = pending.map((i) => this.#member(i).info.name).join(', ');
        throw new EtcdClusterError(
          `${names} not healthy ${this.#startTimeoutMs} ms after restart (no quorum?):\n${this.report()}`,
        );
      }
      const health = await Promise.all(pending.map((i) => this.#healthy(i)));
      pending = pending.filter((_, k) => !health[k]);
      if (pending.length > 0) await sleep(50);
    }
  }

  /** The members not running now (stopped, killed or crashed), by index. */
  stopped(): number[] {
    return this.#members.map((_, i) => i).filter((i) => !this.isRunning(i));
  }

  /** Members whose last process exited without stop(), kill() or close() asking: crashes, outside kills. */
  unaskedExits(): Array<{ name: string; exit: EtcdMemberExit; output: string }> {
    return this.#members.flatMap((m) =>
      m.child === null && m.lastExit !== null && !m.lastExit.requested
        ? [{ name: m.info.name, exit: m.lastExit, output: m.lastOutput }]
        : [],
    );
  }

  /**
   * One line per member (running with its pid, stopped on request, or exited
   * unasked with its exit code or signal), then the recent output of every
   * member that is not healthy-looking: those running and those that crashed.
   */
  report(): string {
    const now = Date.now();
    const lines: string[] = [];
    const tails: string[] = [];
    for (const m of this.#members) {
      const name = m.info.name;
      if (m.child !== null) {
        lines.push(`${name}: running (pid ${m.info.pid ?? '?'})`);
        tails.push(`--- ${name} output (this run) ---\n${m.output.slice(-1500)}`);
        continue;
      }
      const e = m.lastExit;
      if (e === null) {
        lines.push(`${name}: never started`);
        continue;
      }
      const how = e.signal !== null ? `signal ${e.signal}` : `exit code ${e.code ?? '?'}`;
      const ago = `${Math.round((now - e.at) / 100) / 10} s ago`;
      if (e.requested) {
        lines.push(`${name}: stopped on request (${how}, ${ago})`);
      } else {
        lines.push(`${name}: EXITED UNASKED (${how}, ${ago})`);
        tails.push(`--- ${name} output (the run that exited) ---\n${m.lastOutput.slice(-1500)}`);
      }
    }
    return [...lines, ...tails].join('\n');
  }

  /** Kills every member and removes the data dirs this cluster created. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.#members.map((_, i) => this.#signal(i, 'SIGKILL')));
    if (this.#ownsRoot) rmSync(this.#root, { recursive: true, force: true });
  }

  #member(i: number): Member {
    const m = this.#members[i];
    if (!m) throw new EtcdClusterError(`no member ${i} (cluster of ${this.#members.length})`);
    return m;
  }

  #spawn(i: number): void {
    installExitHook();
    const m = this.#member(i);
    const child = spawn(this.#binary, m.args, { stdio: ['ignore', 'pipe', 'pipe'] });
    // Each run's output on its own: a report must not show an earlier run's lines as this one's.
    m.output = '';
    const keep = (d: Buffer): void => {
      if (m.child === child) m.output = (m.output + d.toString()).slice(-20_000);
    };
    child.stdout.on('data', keep);
    child.stderr.on('data', keep);
    child.once('error', (err) => {
      keep(Buffer.from(`spawn ${this.#binary} failed: ${err.message} (run npm run setup: it installs etcd-server)\n`));
    });
    m.child = child;
    m.info.pid = child.pid ?? null;
    m.stopping = false;
    running.add(child);
    m.exited = new Promise<void>((resolve) => {
      child.once('close', (code, signal) => {
        running.delete(child);
        if (m.child === child) {
          m.child = null;
          m.info.pid = null;
          m.lastExit = { code, signal, requested: m.stopping, at: Date.now() };
          m.lastOutput = m.output;
          if (!m.stopping && !this.#closed) {
            log.warn(
              { member: m.info.name, code, signal, output: m.output.slice(-2000) },
              'etcd member exited unasked',
            );
          }
        }
        resolve();
      });
    });
  }

  async #signal(i: number, signal: NodeJS.Signals): Promise<void> {
    const m = this.#member(i);
    const child = m.child;
    if (!child) return;
    m.stopping = true;
    if (signal !== 'SIGKILL') child.kill('SIGCONT'); // a paused member cannot handle SIGTERM
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
    await m.exited;
    clearTimeout(timer);
  }

  async #healthy(i: number): Promise<boolean> {
    const body = await this.#fetchJson(i, '/health', undefined);
    return typeof body === 'object' && body !== null && (body as { health?: unknown }).health === 'true';
  }

  async #status(i: number): Promise<{ leader: string; memberId: string } | null> {
    // The v3 gRPC gateway: member id and the leader it follows, as decimal strings.
    const body = (await this.#fetchJson(i, '/v3/maintenance/status', '{}')) as {
      leader?: unknown;
      header?: { member_id?: unknown };
    } | null;
    if (!body || typeof body.leader !== 'string' || typeof body.header?.member_id !== 'string') return null;
    return { leader: body.leader, memberId: body.header.member_id };
  }

  async #fetchJson(i: number, path: string, post: string | undefined): Promise<unknown> {
    try {
      const res = await fetch(`${this.#member(i).info.clientUrl}${path}`, {
        method: post === undefined ? 'GET' : 'POST',
        body: post,
        signal: AbortSignal.timeout(1000),
      });
      return res.ok ? await res.json() : null;
    } catch {
      return null;
    }
  }
}
