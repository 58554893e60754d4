// Starts election candidates (scripts/lib/election-candidate.ts) as processes
// and follows what they say: who leads, since when, and the outcome of each
// fenced write. Used by the election tests and bench/election.ts. Every
// process started here is killed by close().
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ROOT } from './launcher.js';

export interface CandidateEvent {
  event: string;
  id: string;
  at: number;
  revision?: string;
  reason?: string;
  n?: string;
  ok?: boolean;
  error?: string;
}

export interface Candidate {
  id: string;
  child: ChildProcess;
  events: CandidateEvent[];
  exited: Promise<void>;
}

export class ElectionCandidates {
  readonly #hosts: string[];
  readonly #namespace: string;
  readonly #all: Candidate[] = [];

  constructor(hosts: string[], namespace: string) {
    this.#hosts = hosts;
    this.#namespace = namespace;
  }

  get all(): readonly Candidate[] {
    return this.#all;
  }

  async start(id: string): Promise<Candidate> {
    const child = spawn(process.execPath, ['--import', 'tsx', join(ROOT, 'scripts/lib/election-candidate.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        LOCKSTEP_LOG_LEVEL: process.env.LOCKSTEP_LOG_LEVEL ?? 'warn',
        LOCKSTEP_ETCD_HOSTS: this.#hosts.join(','),
        LOCKSTEP_CANDIDATE_ID: id,
        LOCKSTEP_ETCD_NAMESPACE: this.#namespace,
      },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const c: Candidate = {
      id,
      child,
      events: [],
      exited: new Promise((resolve) => child.once('exit', () => resolve())),
    };
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-4000)));
    createInterface({ input: child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      try {
        c.events.push(JSON.parse(line) as CandidateEvent);
      } catch {
        // a log line, not an event
      }
    });
    this.#all.push(c);
    await this.waitFor(
      () => c.events.some((e) => e.event === 'ready'),
      30_000,
      () => `${id} not ready: ${stderr}`,
    );
    return c;
  }

  /** The candidate whose latest elected/stepped-down event is "elected", among the live ones. */
  leaders(): Candidate[] {
    return this.#all.filter((c) => {
      if (c.child.exitCode !== null || c.child.signalCode !== null) return false;
      const last = c.events.filter((e) => e.event === 'elected' || e.event === 'stepped-down').at(-1);
      return last?.event === 'elected';
    });
  }

  /** Asks `c` for a fenced write; resolves with its outcome. */
  async write(c: Candidate, n: number, timeoutMs = 10_000): Promise<CandidateEvent> {
    c.child.stdin?.write(`write ${n}\n`);
    let found: CandidateEvent | undefined;
    await this.waitFor(
      () => (found = c.events.find((e) => e.event === 'write' && e.n === String(n))) !== undefined,
      timeoutMs,
      () => `${c.id} did not answer write ${n}`,
    );
    return found as CandidateEvent;
  }

  async waitFor(cond: () => boolean, timeoutMs: number, what: () => string): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!cond()) {
      if (Date.now() > deadline) throw new Error(`timed out: ${what()}`);
      await new Promise((r) => setTimeout(r, 10));
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#all.map(async (c) => {
        if (c.child.exitCode === null && c.child.signalCode === null) {
          c.child.kill('SIGCONT');
          c.child.kill('SIGKILL');
        }
        await c.exited;
      }),
    );
  }
}
