// Diagnostic (not part of `npm run bench`): per-thread CPU and wakeups of each
// renderer node process over consecutive windows of the standby-cpu shape
// (3 replicas on 3 nodes, 1280×720 writer, ~9 keys/s), to see where a standby's
// CPU goes and how it settles after a fresh session starts.
//   tsx bench/standby-split.ts warm unwatched idle   one session per argument
// Kinds: warm / hot (a real Chromium viewer types), unwatched (no viewer video,
// a socket typist), idle (no video, nobody types). Environment:
//   SPLIT_WINDOW_MS  window length (10 000)
//   SPLIT_REPEAT     windows per session, back to back (1)
//   SPLIT_TRACE=1    nodes write frame traces (LOCKSTEP_TRACE_DIR; thumbnails are `busy` records)
//   SPLIT_PROFILE=1  SIGUSR2 to each node at each window's start and end (for a profiling preload, see
//                    docs/standby-cost.md, sixth pass)
import { readdirSync, readFileSync } from 'node:fs';
import { launchChromium, type TestBrowser } from '../scripts/lib/chromium.js';
import { removeDir, stopAll } from '../scripts/lib/launcher.js';
import { viewerPageState } from '../scripts/lib/viewer-page.js';
import {
  connectViewer,
  createSession,
  openBenchViewer,
  pacedPresses,
  pidOf,
  pressOverSocket,
  sleep,
  startCluster,
  startTracedCluster,
  waitForStreams,
} from './lib/cluster.js';
import { nodeThreadGroup, parseComm, parseCpuTicks } from './lib/proc-stats.js';
import { load1m } from './lib/report.js';

const HOSTS = ['cpu-host-1', 'cpu-host-2', 'cpu-host-3'];
const TYPED = 'the quick brown fox jumps over the lazy dog ';
const WINDOW_MS = Number(process.env.SPLIT_WINDOW_MS ?? 10_000);
const REPEAT = Math.max(1, Number(process.env.SPLIT_REPEAT ?? 1));
/** /proc ticks per second (CLK_TCK, 100 on Linux). */
const HZ = 100;

interface ThreadReading {
  /** The comm name; the main thread (tid = pid) as "main". */
  name: string;
  ticks: number;
  /** Voluntary context switches: the thread's wakeups. */
  wakeups: number;
}

function readThreads(pid: number): Map<string, ThreadReading> {
  const out = new Map<string, ThreadReading>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
      const status = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      const comm = parseComm(stat);
      out.set(tid, {
        name: nodeThreadGroup(pid, Number(tid), comm) === 'main' ? 'main' : comm,
        ticks: parseCpuTicks(stat),
        wakeups: Number(/^voluntary_ctxt_switches:\s+(\d+)/m.exec(status)?.[1] ?? 0),
      });
    } catch {
      // the thread exited while we looked
    }
  }
  return out;
}

/** "1.23 % = main 0.60 %/11 w, …": the process total, then each thread name's share and wakeups per second. */
function splitText(before: Map<string, ThreadReading>, after: Map<string, ThreadReading>, seconds: number): string {
  const by = new Map<string, { pct: number; wake: number }>();
  for (const [tid, a] of after) {
    const b = before.get(tid) ?? { ticks: 0, wakeups: 0 };
    const e = by.get(a.name) ?? { pct: 0, wake: 0 };
    e.pct += (100 * (a.ticks - b.ticks)) / HZ / seconds;
    e.wake += (a.wakeups - b.wakeups) / seconds;
    by.set(a.name, e);
  }
  const total = [...by.values()].reduce((s, e) => s + e.pct, 0);
  const parts = [...by]
    .filter(([, e]) => e.pct >= 0.05 || e.wake >= 5)
    .sort((x, y) => y[1].pct - x[1].pct)
    .map(([n, e]) => `${n} ${e.pct.toFixed(2)} %/${Math.round(e.wake)} w`);
  return `${total.toFixed(2)} % = ${parts.join(', ')}`;
}

async function main(): Promise<void> {
  const kinds = process.argv.slice(2);
  const c = process.env.SPLIT_TRACE ? await startTracedCluster(HOSTS) : await startCluster(HOSTS);
  if (c.traceDir) console.log(`trace ${c.traceDir}`);
  let browser: TestBrowser | undefined;
  try {
    const viewer = await connectViewer(c);
    for (const kind of kinds) {
      const sessionId = await createSession(c, viewer, { width: 1280, height: 720, replicationFactor: 3 });
      const mode = kind === 'hot' ? 'hot' : 'warm';
      const withViewer = kind === 'warm' || kind === 'hot';
      let press: (i: number) => Promise<unknown>;
      let shown: string | null = null;
      browser ??= withViewer ? await launchChromium() : undefined;
      const page = withViewer && browser ? await browser.context.newPage() : undefined;
      if (page) {
        await openBenchViewer(page, c, sessionId, mode);
        await waitForStreams(page, 3, mode);
        await sleep(2000);
        shown = (await viewerPageState(page))?.liveHostId ?? null;
        press = (i) => page.keyboard.press(TYPED[i % TYPED.length] ?? 'x');
      } else {
        await viewer.request({ type: 'session.join', sessionId, clientId: 'bench-typist' });
        await sleep(2000);
        press = (i) => pressOverSocket(viewer, sessionId, TYPED[i % TYPED.length] ?? 'x');
      }
      const pids = new Map([...c.nodes].map(([h, p]) => [h, pidOf(p)]));
      let typed = 0;
      for (let rep = 0; rep < REPEAT; rep++) {
        const before = new Map([...pids].map(([h, pid]) => [h, readThreads(pid)]));
        const l0 = load1m();
        if (process.env.SPLIT_PROFILE) for (const pid of pids.values()) process.kill(pid, 'SIGUSR2');
        const from = Date.now();
        const { keys, seconds } =
          kind === 'idle'
            ? await sleep(WINDOW_MS).then(() => ({ keys: 0, seconds: WINDOW_MS / 1000 }))
            : await pacedPresses(WINDOW_MS, 110, (i) => press(typed + i).then(() => undefined));
        typed += keys;
        if (process.env.SPLIT_PROFILE) for (const pid of pids.values()) process.kill(pid, 'SIGUSR2');
        const now = page ? ((await viewerPageState(page))?.liveHostId ?? '-') : '-';
        console.log(
          `== ${kind} #${rep + 1} ${from}..${Date.now()} keys/s ${(keys / seconds).toFixed(1)} ` +
            `load ${((l0 + load1m()) / 2).toFixed(2)} shown ${shown ?? '-'} now ${now}`,
        );
        for (const [h, pid] of pids) {
          const role = page ? (h === shown ? 'shown  ' : 'standby') : 'unwatched';
          console.log(
            `  ${h} ${role} ${splitText(before.get(h) ?? new Map<string, ThreadReading>(), readThreads(pid), seconds)}`,
          );
        }
      }
      await page?.close();
      await viewer.request({ type: 'sessions.close', sessionId });
      await sleep(1000);
    }
    viewer.close();
  } finally {
    await browser?.close();
    await stopAll();
    removeDir(c.server.dataDir);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
