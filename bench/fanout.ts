// SFU fan-out: CPU of the mediasoup worker and of the server process while 0,
// 1, 10 and 50 simulated viewers consume one replica's stream (1280x720 writer,
// a typist sending a few keys per second so frames flow). The viewers are
// wrtc consumers in one extra Node process (lib/fanout-viewers.ts). CPU is the
// utime+stime delta of /proc/<pid>/stat over a 10 s window, in % of one core.
// Usage: tsx bench/fanout.ts
import { spawn, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { removeDir, stopAll } from '../scripts/lib/launcher.js';
import type { ViewerClient } from '../scripts/lib/viewer-client.js';
import {
  childPids,
  commOf,
  connectViewer,
  cpuSeconds,
  createSession,
  fetchSession,
  pidOf,
  sleep,
  startCluster,
  type Cluster,
} from './lib/cluster.js';
import { collector, formatResult, isMain, load1m, round, type BenchResult } from './lib/report.js';
import { proseText } from './lib/writer-inputs.js';

const WIDTH = 1280;
const HEIGHT = 720;
const VIEWER_COUNTS = (process.env.LOCKSTEP_BENCH_VIEWERS ?? '0,1,10,50').split(',').map(Number);
const WINDOW_MS = 10_000;
/** After viewers join: their keyframe requests and handshakes settle before the window. */
const SETTLE_MS = 3000;
const KEYS_PER_SECOND = 4;
const HELPER = join(dirname(fileURLToPath(import.meta.url)), 'lib', 'fanout-viewers.ts');

interface HelperMsg {
  type: string;
  total?: number;
  failed?: number;
  ms?: number;
  error?: string;
  bytesReceived?: number;
  framesDecoded?: number;
  packetsReceived?: number;
  packetsLost?: number;
  pliCount?: number;
  nackCount?: number;
  keyFramesDecoded?: number;
}

/** The simulated-viewers process and a request/response over its IPC channel. */
class Helper {
  readonly child: ChildProcess;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private output = '';
  private waiters: Array<{ type: string; resolve: (m: HelperMsg) => void }> = [];

  constructor(env: Record<string, string>) {
    this.child = spawn(process.execPath, ['--import', 'tsx', HELPER], {
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe', 'ipc'],
    });
    const keep = (d: Buffer) => {
      this.output = (this.output + d.toString()).slice(-20_000);
      if (process.env.LOCKSTEP_BENCH_DEBUG) process.stderr.write(d);
    };
    this.child.stdout?.on('data', keep);
    this.child.stderr?.on('data', keep);
    this.exited = new Promise((resolve) => this.child.once('exit', (code, signal) => resolve({ code, signal })));
    this.child.on('message', (m: HelperMsg) => {
      const i = this.waiters.findIndex((w) => w.type === m.type);
      if (i >= 0) this.waiters.splice(i, 1)[0]?.resolve(m);
    });
  }

  get pid(): number {
    if (this.child.pid === undefined) throw new Error('fanout helper has no pid');
    return this.child.pid;
  }

  next(type: string, timeoutMs = 120_000): Promise<HelperMsg> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`fanout helper: no '${type}' in ${timeoutMs} ms\n${this.output.slice(-2000)}`)),
        timeoutMs,
      );
      void this.exited.then(({ code, signal }) => {
        clearTimeout(timer);
        reject(new Error(`fanout helper exited (${code ?? signal})\n${this.output.slice(-2000)}`));
      });
      this.waiters.push({
        type,
        resolve: (m) => {
          clearTimeout(timer);
          resolve(m);
        },
      });
    });
  }

  async call(msg: Record<string, unknown>, reply: string, timeoutMs?: number): Promise<HelperMsg> {
    const p = this.next(reply, timeoutMs);
    this.child.send(msg);
    return p;
  }

  /** Closes the peer connections, then waits for the exit (a SIGSEGV of wrtc at exit is tolerated). */
  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    try {
      await this.call({ type: 'close' }, 'closed', 10_000);
    } catch {
      // it may already be gone
    }
    const timer = setTimeout(() => this.child.kill('SIGKILL'), 5000);
    await this.exited;
    clearTimeout(timer);
  }
}

function workerPids(serverPid: number): number[] {
  return childPids(serverPid).filter((p) => commOf(p).startsWith('mediasoup'));
}

function cpuOf(pids: readonly number[]): number {
  return pids.reduce((sum, p) => {
    try {
      return sum + cpuSeconds(p);
    } catch {
      return sum;
    }
  }, 0);
}

export async function runFanout(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  let cluster: Cluster | undefined;
  let viewer: ViewerClient | undefined;
  let helper: Helper | undefined;
  let typing = true;
  let typist: Promise<void> = Promise.resolve();
  try {
    cluster = await startCluster(['fan-host-1']);
    const c = cluster;
    const tv = await connectViewer(c);
    viewer = tv;
    // R is at least 2; one node here, so one replica streams: the fan-out of a single producer is what is measured.
    const sessionId = await createSession(c, tv, { width: WIDTH, height: HEIGHT, replicationFactor: 2, live: 1 });
    const replica = (await fetchSession(c, sessionId)).replicas.find((r) => r.state === 'live');
    if (!replica?.producerId) throw new Error('no live producer');
    await tv.request({ type: 'session.join', sessionId, clientId: 'bench-typist' });
    await tv.request({
      type: 'input',
      sessionId,
      clientSeq: tv.clientSeq++,
      event: { type: 'paste', text: `${proseText(1500)}\n\n` },
    });
    typist = (async () => {
      const text = 'fan out the frames to every viewer ';
      for (let i = 0; typing; i++) {
        const t = performance.now();
        await tv.type(sessionId, text[i % text.length] ?? 'x').catch(() => undefined);
        await sleep(Math.max(0, 1000 / KEYS_PER_SECOND - (performance.now() - t)));
      }
    })();

    const serverPid = pidOf(c.server);
    const nodePid = pidOf([...c.nodes.values()][0] ?? c.server);
    helper = new Helper({
      BENCH_URL: c.url,
      BENCH_TOKEN: c.token,
      BENCH_SESSION: sessionId,
      BENCH_PRODUCER: replica.producerId,
      LOCKSTEP_LOG_LEVEL: 'warn',
    });
    await helper.next('ready', 60_000);
    const helperPid = helper.pid;
    const h = helper;

    let baseline: { worker: number; server: number } | undefined;
    let joined = 0;
    for (const n of VIEWER_COUNTS) {
      if (n > joined) {
        const r = await h.call({ type: 'add', count: n - joined }, 'added', 180_000);
        joined = r.total ?? joined;
        if ((r.failed ?? 0) > 0) console.warn(`fanout: ${r.failed} viewer(s) failed to join: ${r.error ?? ''}`);
        await sleep(SETTLE_MS);
      } else {
        await sleep(SETTLE_MS);
      }
      const workers = workerPids(serverPid);
      const s0 = await h.call({ type: 'stats' }, 'stats');
      const cpu0 = { w: cpuOf(workers), s: cpuOf([serverPid]), n: cpuOf([nodePid]), h: cpuOf([helperPid]) };
      const t0 = performance.now();
      const l0 = load1m();
      await sleep(WINDOW_MS);
      const cpu1 = { w: cpuOf(workers), s: cpuOf([serverPid]), n: cpuOf([nodePid]), h: cpuOf([helperPid]) };
      const secs = (performance.now() - t0) / 1000;
      const s1 = await h.call({ type: 'stats' }, 'stats');
      const pct = (a: number, b: number) => round(((b - a) / secs) * 100, 2);
      const worker = pct(cpu0.w, cpu1.w);
      const server = pct(cpu0.s, cpu1.s);
      baseline ??= { worker, server };
      const per = (v: number, base: number) => (joined > 0 ? round((v - base) / joined, 3) : 0);
      const rxKbps = round((((s1.bytesReceived ?? 0) - (s0.bytesReceived ?? 0)) * 8) / 1000 / secs, 1);
      const d = (k: keyof HelperMsg) => Number(s1[k] ?? 0) - Number(s0[k] ?? 0);
      const rxFps = round(((s1.framesDecoded ?? 0) - (s0.framesDecoded ?? 0)) / secs, 1);
      const common = {
        viewers: joined,
        seconds: round(secs, 1),
        load1m: round((l0 + load1m()) / 2),
      };
      const name = `fanout.${n}-viewers`;
      add({
        name: `${name}.worker-cpu`,
        value: worker,
        unit: '% of one core',
        detail: {
          perViewer: joined > 0 ? round(worker / joined, 3) : 0,
          perViewerAboveIdle: per(worker, baseline.worker),
          workers: workers.length,
          ...common,
        },
      });
      add({
        name: `${name}.server-cpu`,
        value: server,
        unit: '% of one core',
        detail: {
          perViewer: joined > 0 ? round(server / joined, 3) : 0,
          perViewerAboveIdle: per(server, baseline.server),
          ...common,
        },
      });
      add({
        name: `${name}.context`,
        value: rxKbps,
        unit: 'kbit/s received (all viewers)',
        detail: {
          perViewerKbps: joined > 0 ? round(rxKbps / joined, 1) : 0,
          framesDecodedPerSecond: rxFps,
          keyFramesDecoded: d('keyFramesDecoded'),
          plisSent: d('pliCount'),
          nacksSent: d('nackCount'),
          packetsLost: d('packetsLost'),
          rendererNodeCpuPct: pct(cpu0.n, cpu1.n),
          viewersProcessCpuPct: pct(cpu0.h, cpu1.h),
          note: `${WIDTH}x${HEIGHT} writer, ${KEYS_PER_SECOND} keys/s; all viewers wrtc consumers in one process`,
        },
      });
    }
  } finally {
    typing = false;
    await typist;
    await helper?.stop();
    viewer?.close();
    await stopAll();
    if (cluster) removeDir(cluster.server.dataDir);
  }
  return results;
}

if (isMain(import.meta.url)) {
  await runFanout((r) => console.log(formatResult(r), r.detail ? JSON.stringify(r.detail) : ''));
}
