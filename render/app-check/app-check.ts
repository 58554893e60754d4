// `lockstep app check <folder>`: the same generated input log replayed in two
// separate processes (one of them restoring from its own snapshot every few
// steps), comparing state hashes and rendered pixels at every step. Separate
// processes mean cold caches, a fresh heap and fresh font registration: what
// a replica on another host would have.
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { CheckDivergence, CheckOptions, CheckReport, CheckStep } from './check-types.js';

const CHILD = fileURLToPath(new URL('./check-process.ts', import.meta.url));
const TSX = import.meta.resolve('tsx');

type ChildLine = CheckStep | { app: string } | { error: string };

/** Runs one side; resolves with every line it printed. */
function runSide(opts: CheckOptions, restoreEvery: number): Promise<ChildLine[]> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', TSX, CHILD, JSON.stringify(opts), String(restoreEvery)], {
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, LOCKSTEP_LOG_LEVEL: process.env.LOCKSTEP_LOG_LEVEL ?? 'warn' },
    });
    const lines: ChildLine[] = [];
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000);
    });
    createInterface({ input: child.stdout }).on('line', (line) => {
      try {
        lines.push(JSON.parse(line) as ChildLine);
      } catch {
        // not ours (a stray print): ignore
      }
    });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0 && !lines.some((l) => 'error' in l)) lines.push({ error: `exit ${code}: ${stderr.trim()}` });
      resolve(lines);
    });
  });
}

export async function runAppCheck(opts: CheckOptions): Promise<CheckReport> {
  const t0 = performance.now();
  const [a, b] = await Promise.all([runSide(opts, 0), runSide(opts, opts.restoreEvery)]);
  const app = [...a, ...b].find((l): l is { app: string } => 'app' in l)?.app ?? opts.dir;
  const error = [...a, ...b].find((l): l is { error: string } => 'error' in l)?.error ?? null;
  const stepsA = a.filter((l): l is CheckStep => 'seq' in l);
  const stepsB = b.filter((l): l is CheckStep => 'seq' in l);
  let divergence: CheckDivergence | null = null;
  const n = Math.min(stepsA.length, stepsB.length);
  for (let i = 0; i < n && !divergence; i++) {
    const x = stepsA[i] as CheckStep;
    const y = stepsB[i] as CheckStep;
    if (x.stateHash !== y.stateHash) divergence = { seq: x.seq, what: 'state hash', afterRestore: y.restored };
    else if (x.statusHash !== y.statusHash) divergence = { seq: x.seq, what: 'status hash', afterRestore: y.restored };
    else if (x.pixelHash !== y.pixelHash) divergence = { seq: x.seq, what: 'pixels', afterRestore: y.restored };
    // A state digest must change exactly when the state does: the snapshot bytes say when that is.
    const before = stepsA[i - 1];
    if (!divergence && before && (x.stateHash === before.stateHash) !== (x.statusHash === before.statusHash)) {
      divergence = { seq: x.seq, what: 'status hash tracking', afterRestore: false };
    }
  }
  return {
    app,
    steps: n,
    restores: stepsB.filter((s) => s.restored).length,
    divergence,
    error: error ?? (n < opts.steps && !divergence ? `only ${n} of ${opts.steps} steps ran` : null),
    elapsedMs: Math.round(performance.now() - t0),
  };
}
