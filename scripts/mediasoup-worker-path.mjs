// Prints where the patched mediasoup worker binary lives: a cache outside the
// checkout keyed by mediasoup version + the hash of its patches, so a fresh
// clone reuses it and a changed patch gets a new path. Shared by setup (which
// builds it) and the server (which points MEDIASOUP_WORKER_BIN at it).
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const MEDIASOUP_VERSION = '3.8.4';

/** The worker's patches, in the order build-mediasoup-worker.sh applies them. */
export function mediasoupPatches() {
  const prefix = `mediasoup-${MEDIASOUP_VERSION}`;
  return readdirSync(here)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.patch'))
    .sort()
    .map((f) => join(here, f));
}

export function mediasoupWorkerPath() {
  if (process.env.MEDIASOUP_WORKER_BIN) return process.env.MEDIASOUP_WORKER_BIN;
  const hash = createHash('sha256');
  for (const patch of mediasoupPatches()) hash.update(readFileSync(patch));
  const key = hash.digest('hex').slice(0, 12);
  const cacheRoot =
    process.env.LOCKSTEP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lockstep');
  return join(cacheRoot, `mediasoup-worker-${MEDIASOUP_VERSION}-${key}`, 'mediasoup-worker');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  // `--patches`: the patch files, one a line (for the build script).
  const lines = process.argv[2] === '--patches' ? mediasoupPatches() : [mediasoupWorkerPath()];
  process.stdout.write(lines.join('\n') + '\n');
}
