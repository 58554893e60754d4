// Where the viewer's CPU goes with the tile display (docs/tile-display.md, phase 2): the spike's tile page
// (bench/tile-display.ts, PNG tiles) against the product viewer's tile display and its video path, each with
// the peer bench's method (bench/peer.ts: all Chromium threads while typing 10 keys/s for 10 s) and a CPU
// profile of the page's main thread (LOCKSTEP_BENCH_PROFILE, default /tmp/lockstep-profiles; empty: none, for
// figures the profiler does not perturb). noVNC too, without a profile of its own page worth reading.
// Usage: LOCKSTEP_TILE_PROFILE=spike,tiles,video,noVNC tsx bench/tile-profile.ts
import { isMain, load1m } from './lib/report.js';
import { measureLockstep, measurePeer, type Measured } from './peer.js';
import { measureTiles, pageScript } from './tile-display.js';

process.env.LOCKSTEP_BENCH_PROFILE ??= '/tmp/lockstep-profiles';

function print(label: string, load: number, m: Measured): void {
  console.log(
    JSON.stringify({
      label,
      load: [load, load1m()],
      cpu: m.cpuPercent,
      byType: m.cpuByType,
      threads: m.cpuByThread,
      main: m.mainThread,
      videoFps: m.videoFps,
      p50: m.lat.p50,
      p95: m.lat.p95,
      toAck: m.stamp ? [m.stamp.toAckP50, m.stamp.toAckP95] : undefined,
      unprobedToAck: m.stamp ? [m.stamp.unprobedToAckP50, m.stamp.unprobedToAckP95] : undefined,
      stampP50: m.stamp?.stampP50,
      readMsPerFrame: m.readMsPerFrame,
    }),
  );
  for (const r of (m.profile ?? []).slice(0, 45))
    console.log(`  ${r.totalMsPerS.toFixed(2).padStart(7)} ${r.selfMsPerS.toFixed(2).padStart(7)}  ${r.fn}`);
}

if (isMain(import.meta.url)) {
  const runs = (process.env.LOCKSTEP_TILE_PROFILE ?? 'spike,tiles,video').split(',').filter(Boolean);
  const script = await pageScript();
  for (const run of runs) {
    const load = load1m();
    if (run === 'spike') print(run, load, await measureTiles('png', false, script));
    else if (run === 'noVNC') print(run, load, await measurePeer());
    else {
      if (run === 'tiles') process.env.LOCKSTEP_VIEWER_DISPLAY = 'tiles';
      else delete process.env.LOCKSTEP_VIEWER_DISPLAY;
      print(run, load, await measureLockstep());
    }
  }
}
