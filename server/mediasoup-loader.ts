// Loads mediasoup after pointing MEDIASOUP_WORKER_BIN at the patched worker
// that setup built into the cache (mediasoup reads the variable at import).
import { existsSync } from 'node:fs';
import { WorkerBinaryMissingError } from './errors.js';
// @ts-expect-error plain .mjs helper shared with the shell setup
import { mediasoupWorkerPath } from '../scripts/mediasoup-worker-path.mjs';

import type * as MediasoupModule from 'mediasoup';

export type Mediasoup = typeof MediasoupModule;

let loaded: Promise<Mediasoup> | undefined;

export function workerBinaryPath(): string {
  return (mediasoupWorkerPath as () => string)();
}

export function loadMediasoup(): Promise<Mediasoup> {
  if (!loaded) {
    const bin = workerBinaryPath();
    if (!existsSync(bin)) throw new WorkerBinaryMissingError(bin);
    process.env.MEDIASOUP_WORKER_BIN = bin;
    loaded = import('mediasoup');
  }
  return loaded;
}
