// Resident memory of real processes: the server with no sessions and with one
// session of 3 replicas; a renderer node with 0, 1 and 3 replicas (real video
// path: wrtc VP8 encode and a mediasoup producer per replica). RSS is VmRSS
// from /proc/<pid>/status; the server's mediasoup worker is a child process and
// is reported in the detail. Usage: tsx bench/memory.ts
import { readdirSync, readFileSync } from 'node:fs';
import type { SessionInfo } from '../protocol/session.js';
import { removeDir, startNode, startServer, stopAll, type Proc, type ServerProc } from '../scripts/lib/launcher.js';
import { getSession } from '../scripts/lib/session-rest.js';
import { ViewerClient } from '../scripts/lib/viewer-client.js';
import { waitFor } from '../scripts/lib/wait-for.js';
import { collector, formatResult, isMain, round, type BenchResult } from './lib/report.js';
import { proseText } from './lib/writer-inputs.js';

const WIDTH = 1280;
const HEIGHT = 720;
/** Time left to a process after a change before its RSS is read. */
const SETTLE_MS = 3000;
/** A freshly started process first sheds its start-up garbage (tsx transpiling, module init). */
const STARTUP_SETTLE_MS = 8000;
const SAMPLES = 3;
const SAMPLE_EVERY_MS = 500;

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

function rssKiB(pid: number): number {
  const m = /^VmRSS:\s+(\d+)\s+kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) : Number.NaN;
}

/** Direct children of `pid` (e.g. the mediasoup worker of the server). */
function childPids(pid: number): number[] {
  const out: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      // pid (comm) state ppid ...: comm may contain spaces, so split after the last ')'.
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) out.push(Number(entry));
    } catch {
      // the process exited while we looked
    }
  }
  return out;
}

function pidOf(proc: Proc): number {
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error(`${proc.name} has no pid`);
  return pid;
}

/** Median of a few VmRSS samples after SETTLE_MS, in MB. */
async function settledRssMB(pid: number, settleMs = SETTLE_MS): Promise<number> {
  await sleep(settleMs);
  const samples: number[] = [];
  for (let i = 0; i < SAMPLES; i++) {
    if (i > 0) await sleep(SAMPLE_EVERY_MS);
    samples.push(rssKiB(pid));
  }
  samples.sort((a, b) => a - b);
  return round((samples[Math.floor(samples.length / 2)] ?? Number.NaN) / 1024, 1);
}

function childrenRssMB(pid: number): number {
  return round(childPids(pid).reduce((sum, p) => sum + rssKiB(p), 0) / 1024, 1);
}

function allLive(s: SessionInfo, replicas: number): boolean {
  const live = s.replicas.filter((r) => r.state === 'live');
  return live.length === replicas && live.every((r) => r.appliedSeq === s.headSeq);
}

/** Creates a session, types a page of text into it and waits until every replica is live and caught up. */
async function liveSession(
  server: ServerProc,
  viewer: ViewerClient,
  replicationFactor: number,
  expectLive = replicationFactor,
): Promise<SessionInfo> {
  const { session } = await viewer.request({
    type: 'sessions.create',
    app: 'writer',
    replicationFactor,
    width: WIDTH,
    height: HEIGHT,
  });
  const sessionId = session.sessionId;
  await viewer.request({ type: 'session.join', sessionId, clientId: 'bench' });
  const text = proseText(8000);
  // clientSeq counts per session and client, from 0.
  let clientSeq = 0;
  for (let i = 0; i < text.length; i += 4000) {
    await viewer.request({
      type: 'input',
      sessionId,
      clientSeq: clientSeq++,
      event: { type: 'paste', text: text.slice(i, i + 4000) },
    });
  }
  try {
    return await waitFor(
      `${expectLive} live replicas of ${sessionId}`,
      async () => {
        const info = await getSession(server.url, sessionId);
        return allLive(info, expectLive) ? info : undefined;
      },
      60_000,
    );
  } catch (err) {
    // Say what the replicas were doing and what the processes logged.
    const info = await getSession(server.url, sessionId).catch(() => undefined);
    const states = info?.replicas.map((r) => `${r.replicaId}@${r.hostId}:${r.state}:${r.appliedSeq}/${info.headSeq}`);
    throw new Error(
      `${String(err)}\nreplicas: ${states?.join(', ') ?? 'unknown'}\nserver log tail:\n${server.output().slice(-1500)}`,
      { cause: err },
    );
  }
}

async function nodeMemory(add: (r: BenchResult) => void): Promise<void> {
  let server: ServerProc | undefined;
  let viewer: ViewerClient | undefined;
  try {
    server = await startServer();
    const node = await startNode({ url: server.url, hostId: 'bench-mem-a' });
    const pid = pidOf(node);
    viewer = await ViewerClient.connect(server.url);
    // R is at least 2, but with one node each session places one replica here: what is measured is per replica.
    const note = `${WIDTH}x${HEIGHT} writer sessions (R=2, one replica each on this single node), idle after a page of text`;
    add({ name: 'memory.node.0-replicas', value: await settledRssMB(pid, STARTUP_SETTLE_MS), unit: 'MB' });
    await liveSession(server, viewer, 2, 1);
    add({ name: 'memory.node.1-replica', value: await settledRssMB(pid), unit: 'MB', detail: { note } });
    await liveSession(server, viewer, 2, 1);
    await liveSession(server, viewer, 2, 1);
    add({ name: 'memory.node.3-replicas', value: await settledRssMB(pid), unit: 'MB', detail: { note } });
  } finally {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  }
}

async function serverMemory(add: (r: BenchResult) => void): Promise<void> {
  let server: ServerProc | undefined;
  let viewer: ViewerClient | undefined;
  try {
    server = await startServer();
    const pid = pidOf(server);
    const nodes: Proc[] = [];
    for (const host of ['bench-mem-b', 'bench-mem-c', 'bench-mem-d'])
      nodes.push(await startNode({ url: server.url, hostId: host }));
    viewer = await ViewerClient.connect(server.url);
    const idle = await settledRssMB(pid, STARTUP_SETTLE_MS);
    add({
      name: 'memory.server.no-sessions',
      value: idle,
      unit: 'MB',
      detail: { mediasoupWorkersMB: childrenRssMB(pid), nodesConnected: nodes.length },
    });
    await liveSession(server, viewer, 3);
    const busy = await settledRssMB(pid);
    const nodeMB = nodes.map((n) => round(rssKiB(pidOf(n)) / 1024, 1));
    add({
      name: 'memory.server.1-session-3-replicas',
      value: busy,
      unit: 'MB',
      detail: {
        mediasoupWorkersMB: childrenRssMB(pid),
        deltaMB: round(busy - idle, 1),
        nodesMB: nodeMB.join(' / '),
        note: `${WIDTH}x${HEIGHT} writer, no viewer consuming video`,
      },
    });
  } finally {
    viewer?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  }
}

export async function runMemory(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  // Each part starts and stops its own processes: one failing does not skip the other.
  const errors: unknown[] = [];
  for (const part of [serverMemory, nodeMemory]) {
    try {
      await part(add);
    } catch (err) {
      errors.push(err);
    }
  }
  if (errors.length > 0) throw new AggregateError(errors, `memory: ${errors.length} part(s) failed`);
  return results;
}

if (isMain(import.meta.url)) {
  await runMemory((r) => console.log(formatResult(r)));
}
