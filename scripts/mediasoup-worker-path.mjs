// Prints where the patched mediasoup worker binary lives: a cache outside the
// checkout keyed by mediasoup version + patch hash, so a fresh clone reuses it.
// Shared by setup (which builds it) and the server (which points
// MEDIASOUP_WORKER_BIN at it).
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
export const MEDIASOUP_VERSION = '3.8.4';

export function mediasoupWorkerPath() {
  if (process.env.MEDIASOUP_WORKER_BIN) return process.env.MEDIASOUP_WORKER_BIN;
  const patch = readFileSync(join(here, `mediasoup-${MEDIASOUP_VERSION}.patch`));
  const key = createHash('sha256').update(patch).digest('hex').slice(0, 12);
  const cacheRoot =
    process.env.LOCKSTEP_CACHE_DIR ?? join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'lockstep');
  return join(cacheRoot, `mediasoup-worker-${MEDIASOUP_VERSION}-${key}`, 'mediasoup-worker');
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  process.stdout.write(mediasoupWorkerPath() + '\n');
}
