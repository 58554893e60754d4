// A/B of Lockstep's viewer cost only (the Lockstep half of bench/peer.ts), alternating viewer
// bundles in the same minutes, since on a shared box only back-to-back runs compare:
//   LOCKSTEP_AB=main=/tmp/main-viewer.js,branch=viewer/dist/viewer.js,main=...,branch=... tsx bench/viewer-ab.ts
// Each run serves its bundle as viewer/dist/viewer.js (the original is put back at the end) and
// prints the viewer's CPU (by process type and by thread), PSS, frames/s and main-thread metrics.
import { copyFileSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../scripts/lib/launcher.js';
import { measureLockstep } from './peer.js';
import { load1m } from './lib/report.js';

const served = join(ROOT, 'viewer/dist/viewer.js');
const original = readFileSync(served);
const runs = (process.env.LOCKSTEP_AB ?? '').split(',').filter(Boolean);
if (runs.length === 0) throw new Error('LOCKSTEP_AB=label=bundle.js,… names the bundles to compare');
try {
  for (const run of runs) {
    const [label, bundle] = run.split('=');
    if (!label || !bundle) throw new Error(`LOCKSTEP_AB entry "${run}" is not label=bundle.js`);
    copyFileSync(bundle, served);
    const load = load1m();
    const m = await measureLockstep();
    console.log(
      JSON.stringify({
        label,
        load: [load, load1m()],
        cpu: m.cpuPercent,
        pssMB: m.pssMB,
        videoFps: m.videoFps,
        p50: m.lat.p50,
        p95: m.lat.p95,
        byType: m.cpuByType,
        threads: m.cpuByThread,
        main: m.mainThread,
      }),
    );
  }
} finally {
  writeFileSync(served, original);
}
