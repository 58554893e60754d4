// CPU of a real renderer node process per replica, video path included (wrtc
// VP8 encode and the mediasoup producer): one 1280×720 writer replica, idle
// (keepalive frames only) and while a viewer types 10 keys/s.
// Usage: tsx bench/renderer-cpu.ts
import { removeDir, stopAll } from '../scripts/lib/launcher.js';
import {
  connectViewer,
  cpuSeconds,
  createSession,
  pidOf,
  pressOverSocket,
  sleep,
  startCluster,
} from './lib/cluster.js';
import { collector, formatResult, isMain, load1m, round, type BenchResult } from './lib/report.js';

const WIDTH = 1280;
const HEIGHT = 720;
const WINDOW_MS = 10_000;

async function cpuPercent(pid: number, during: () => Promise<void>): Promise<number> {
  const c0 = cpuSeconds(pid);
  const t0 = performance.now();
  await during();
  const seconds = (performance.now() - t0) / 1000;
  return (100 * (cpuSeconds(pid) - c0)) / seconds;
}

export async function runRendererCpu(onResult: (r: BenchResult) => void = () => undefined): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  // Two hosts (R is at least 2), but only host-a is measured.
  const c = await startCluster(['host-a', 'host-b']);
  try {
    const node = c.nodes.get('host-a');
    if (!node) throw new Error('host-a did not start');
    const pid = pidOf(node);
    const idleBase = await cpuPercent(pid, () => sleep(5000));
    add({
      name: 'renderer-cpu.node.0-replicas',
      value: round(idleBase, 1),
      unit: '% of one core',
      detail: { seconds: 5, load1m: load1m() },
    });

    const viewer = await connectViewer(c);
    const sessionId = await createSession(c, viewer, { width: WIDTH, height: HEIGHT, replicationFactor: 2 });
    await viewer.request({ type: 'session.join', sessionId, clientId: 'bench-typist' });
    await sleep(3000);
    const idle = await cpuPercent(pid, () => sleep(WINDOW_MS));
    add({
      name: 'renderer-cpu.replica.1280x720.idle',
      value: round(idle - idleBase, 1),
      unit: '% of one core',
      detail: {
        processPercent: round(idle, 1),
        note: 'keepalive re-sends of the last frame at 5 fps; VP8 encode included',
        load1m: load1m(),
      },
    });

    const text = 'The quick brown fox jumps over the lazy dog. ';
    let i = 0;
    const typing = await cpuPercent(pid, async () => {
      const end = performance.now() + WINDOW_MS;
      while (performance.now() < end) {
        await pressOverSocket(viewer, sessionId, text[i++ % text.length] ?? ' ');
        await sleep(100);
      }
    });
    add({
      name: 'renderer-cpu.replica.1280x720.typing-10-keys-per-s',
      value: round(typing - idleBase, 1),
      unit: '% of one core',
      detail: {
        processPercent: round(typing, 1),
        keys: i,
        note: 'render + read-back + I420 + VP8 encode per keystroke',
        load1m: load1m(),
      },
    });
    viewer.close();
  } finally {
    await stopAll();
    removeDir(c.server.dataDir);
  }
  return results;
}

if (isMain(import.meta.url)) {
  runRendererCpu((r) => console.log(formatResult(r))).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
