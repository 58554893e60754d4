// Real processes for the browser-level benchmarks: a server, renderer nodes
// and viewers, all started through the product's launcher in scripts/lib
// (stopAll() ends them; it supplies the owner and join tokens), plus /proc
// readers for CPU and memory.
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execFileSync } from 'node:child_process';
import type { Page } from 'playwright-core';
import { cpuByLabel, nodeThreadGroup, parseComm, parseCpuTicks } from './proc-stats.js';
import type { SessionInfo } from '../../protocol/session.js';
import { startNode, startServer, type Proc, type ServerProc } from '../../scripts/lib/launcher.js';
import { getSession } from '../../scripts/lib/session-rest.js';
import { ViewerClient } from '../../scripts/lib/viewer-client.js';
import { waitFor } from '../../scripts/lib/wait-for.js';
import { openViewer, viewerStamps, type ViewerStamps } from '../../scripts/lib/viewer-page.js';

export interface Cluster {
  server: ServerProc;
  url: string;
  /** Owner token for viewers (socket auth, REST Bearer, viewer ?token=). */
  token: string;
  nodes: Map<string, Proc>;
  /** Where the nodes write their frame traces (LOCKSTEP_TRACE_DIR), when they do. */
  traceDir?: string;
}

/** A server and one renderer node per host id (each node stands for a host). */
export async function startCluster(hosts: readonly string[]): Promise<Cluster> {
  const server = await startServer();
  const cluster: Cluster = { server, url: server.url, token: server.ownerToken, nodes: new Map() };
  for (const h of hosts) await startClusterNode(cluster, h);
  return cluster;
}

/** A cluster whose nodes trace every frame into a fresh directory (the latency split, bench/lib/node-split.ts). */
export async function startTracedCluster(hosts: readonly string[]): Promise<Cluster> {
  const traceDir = mkdtempSync(join(tmpdir(), 'lockstep-trace-'));
  // The nodes inherit the environment.
  process.env.LOCKSTEP_TRACE_DIR = traceDir;
  try {
    return { ...(await startCluster(hosts)), traceDir };
  } finally {
    delete process.env.LOCKSTEP_TRACE_DIR;
  }
}

export async function startClusterNode(c: Cluster, hostId: string): Promise<Proc> {
  const node = await startNode({ url: c.url, hostId });
  c.nodes.set(hostId, node);
  return node;
}

export function connectViewer(c: Cluster): Promise<ViewerClient> {
  return ViewerClient.connect(c.url, c.token);
}

export function fetchSession(c: Cluster, sessionId: string): Promise<SessionInfo> {
  return getSession(c.url, sessionId, c.token);
}

/**
 * `replicas` replicas live, producing video and caught up with the head (within
 * `maxLag` inputs: while someone types, status reports trail the head a little).
 */
export function fullStrength(s: SessionInfo, replicas: number, maxLag = 0): boolean {
  const live = s.replicas.filter((r) => r.state === 'live' && r.producerId !== null);
  return live.length >= replicas && live.every((r) => r.appliedSeq >= s.headSeq - maxLag);
}

export async function createSession(
  c: Cluster,
  viewer: ViewerClient,
  opts: { width: number; height: number; replicationFactor: number; live?: number },
): Promise<string> {
  const { live, ...create } = opts;
  const want = live ?? opts.replicationFactor;
  const { session } = await viewer.request({ type: 'sessions.create', app: 'writer', ...create });
  const sessionId = session.sessionId;
  await waitFor(
    `${want} live replicas of ${sessionId}`,
    async () => fullStrength(await fetchSession(c, sessionId), want),
    60_000,
    200,
  );
  return sessionId;
}

/**
 * Opens the viewer on a session with the owner token (openViewer of scripts/lib/viewer-page.ts), reading frame
 * stamps from `stamps` (the product default unless a bench asks otherwise or LOCKSTEP_VIEWER_STAMPS says).
 */
export function openBenchViewer(
  page: Page,
  c: Cluster,
  sessionId: string,
  mode: 'hot' | 'warm',
  stamps: ViewerStamps = viewerStamps(),
): Promise<void> {
  return openViewer(page, c.url, sessionId, mode, c.token, stamps);
}

/** What a bench's latency samples end at, by stamp source (a figure's detail says which it measured). */
export function stampsMeaning(stamps: ViewerStamps): string {
  return stamps === 'frame'
    ? 'frame callbacks: samples end when the frame is presented'
    : 'track processor (product default): samples end when the frame is decoded, no presentation times';
}

interface StreamLike {
  replicaId: string;
  resumed: boolean;
  fps: number;
  live: boolean;
}

/** The viewer's streams (window.__lockstep.streams). */
export function pageStreams(page: Page): Promise<StreamLike[]> {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: { streams?: StreamLike[] } }).__lockstep;
    return (l?.streams ?? []).map((s) => ({ replicaId: s.replicaId, resumed: s.resumed, fps: s.fps, live: s.live }));
  });
}

/** The viewer consumes `n` streams; in hot mode all of them are playing. */
export function waitForStreams(page: Page, n: number, mode: 'hot' | 'warm', timeoutMs = 20_000): Promise<StreamLike[]> {
  return waitFor(
    `${n} streams in the viewer (${mode})`,
    async () => {
      const streams = await pageStreams(page);
      if (streams.length < n) return undefined;
      const playing = streams.filter((s) => s.resumed && s.fps > 0).length;
      return (mode === 'hot' ? playing >= n : playing >= 1) ? streams : undefined;
    },
    timeoutMs,
    100,
  );
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** One key press over the viewer socket (its release too for an app that reads them), each acknowledged before the next. */
export async function pressOverSocket(viewer: ViewerClient, sessionId: string, ch: string): Promise<void> {
  await viewer.type(sessionId, ch);
}

/** Calls `press` every `intervalMs` (on a schedule, not after each press) for `windowMs`: presses and seconds taken. */
export async function pacedPresses(
  windowMs: number,
  intervalMs: number,
  press: (i: number) => Promise<void>,
): Promise<{ keys: number; seconds: number }> {
  const t0 = performance.now();
  let keys = 0;
  while (performance.now() - t0 < windowMs) {
    const wait = t0 + keys * intervalMs - performance.now();
    if (wait > 0) await sleep(wait);
    await press(keys);
    keys++;
  }
  return { keys, seconds: (performance.now() - t0) / 1000 };
}

// ------------------------------------------------------------ /proc

let clkTck: number | undefined;
function ticksPerSecond(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

/** CPU seconds (user + system, all threads) a process has used so far. */
export function cpuSeconds(pid: number): number {
  const f = statFields(pid);
  // After the comm: [0]=state [1]=ppid … [11]=utime [12]=stime (fields 14 and 15 of stat).
  return (Number(f[11]) + Number(f[12])) / ticksPerSecond();
}

/**
 * CPU ticks so far of each thread of `pid`, keyed "<group>/<tid>" where the group is the part of a renderer
 * node process the thread is (nodeThreadGroup: main, wrtc, other); threads that exit while read are left out.
 */
export function nodeThreadTicks(pid: number): Map<string, number> {
  const out = new Map<string, number>();
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return out;
  }
  for (const tid of tids) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      out.set(`${nodeThreadGroup(pid, Number(tid), parseComm(stat))}/${tid}`, parseCpuTicks(stat));
    } catch {
      // the thread exited while we looked
    }
  }
  return out;
}

/** Percent of one core per part (main, wrtc, other) of a node process between two nodeThreadTicks readings. */
export function nodeThreadSplit(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  seconds: number,
): Record<string, number> {
  const parts = cpuByLabel(before, after, (key) => key.split('/')[0] ?? key, seconds, ticksPerSecond());
  return Object.fromEntries(parts);
}

export function commOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/comm`, 'utf8').trim();
  } catch {
    return '';
  }
}

export function cmdlineOf(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'utf8').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Direct children of `pid` (e.g. the mediasoup worker of the server). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (Number(statFields(Number(entry))[1]) === pid) out.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

/** Every descendant of `pid`. */
export function descendantPids(pid: number): number[] {
  const out: number[] = [];
  const queue = [pid];
  while (queue.length > 0) {
    const p = queue.shift() ?? 0;
    for (const c of childPids(p)) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

export function rssKiB(pid: number): number {
  try {
    const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : Number.NaN;
  } catch {
    return Number.NaN;
  }
}

/** VmRSS split (kB): anonymous (the process's own heap), file-backed, shared memory. */
export function rssParts(pid: number): { anonKiB: number; fileKiB: number; shmemKiB: number } {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const field = (name: string) =>
      Number(new RegExp(`^${name}:\\s+(\\d+)\\s+kB`, 'm').exec(status)?.[1] ?? Number.NaN);
    return { anonKiB: field('RssAnon'), fileKiB: field('RssFile'), shmemKiB: field('RssShmem') };
  } catch {
    return { anonKiB: Number.NaN, fileKiB: Number.NaN, shmemKiB: Number.NaN };
  }
}

export function pidOf(proc: Proc): number {
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error(`${proc.name} has no pid`);
  return pid;
}
