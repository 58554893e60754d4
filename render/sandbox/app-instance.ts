// One sandboxed app instance: a worker thread running the app's bundle in a
// node:vm context (sandbox-worker.mjs). Calls are synchronous, like the App
// interface the replica uses: the request is posted and this thread waits on
// a shared flag, bounded by the call's time limit; a call that overruns ends
// the worker and the instance with it.
import { MessageChannel, receiveMessageOnPort, Worker, type MessagePort } from 'node:worker_threads';
import { getLogger } from '../../protocol/logger.js';
import type { Viewport } from '../sdk/app-definition.js';
import { CommandReplayer } from './command-replay.js';
import { AppCodeError, AppStoppedError } from './errors.js';
import type { SandboxLimits } from './sandbox-limits.js';

const log = getLogger('sandbox');

const WORKER_URL = new URL('./sandbox-worker.mjs', import.meta.url);

/** Extra wait beyond the in-context time bound before the worker itself is presumed stuck. */
const BACKSTOP_MS = 1000;

export type SandboxOp = 'init' | 'apply' | 'render' | 'snapshot' | 'restore' | 'copyText' | 'selection' | 'export';

type Reply = { ok: true; value: string } | { ok: false; timeout: boolean; message: string };

export interface AppInstanceOptions {
  app: string;
  bundle: string;
  fontsJson: string;
  limits: SandboxLimits;
}

export class AppInstance {
  readonly app: string;
  readonly replayer: CommandReplayer;
  readonly #worker: Worker;
  readonly #port: MessagePort;
  readonly #flag: Int32Array;
  readonly #limits: SandboxLimits;
  #viewport: Viewport = { width: 0, height: 0 };
  #stopped: string | null = null;

  private constructor(opts: AppInstanceOptions) {
    this.app = opts.app;
    this.#limits = opts.limits;
    this.replayer = new CommandReplayer(opts.limits.maxSurfacePixels);
    const { port1, port2 } = new MessageChannel();
    const signal = new SharedArrayBuffer(4);
    this.#flag = new Int32Array(signal);
    this.#port = port1;
    this.#worker = new Worker(WORKER_URL, {
      workerData: {
        port: port2,
        signal,
        bundle: opts.bundle,
        fonts: opts.fontsJson,
        limits: { callMs: opts.limits.callMs, maxCommands: opts.limits.maxCommands },
      },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: opts.limits.heapMb, maxYoungGenerationSizeMb: 32 },
      // No env, no stdio worth having: the app cannot reach them anyway, and the host's stay private.
      env: {},
      stdout: true,
      stderr: true,
    });
    this.#worker.on('error', (err) => {
      this.#stop(`worker died: ${err.message}`);
    });
    this.#worker.unref();
  }

  /** Starts a worker and loads the bundle; throws AppCodeError if the bundle does not load. */
  static start(opts: AppInstanceOptions): AppInstance {
    const instance = new AppInstance(opts);
    instance.#await('load', opts.limits.startMs);
    return instance;
  }

  get viewport(): Viewport {
    return this.#viewport;
  }

  get stopped(): boolean {
    return this.#stopped !== null;
  }

  /** Runs `op` in the app; the viewport answer of state-changing ops is cached. */
  call(op: SandboxOp, arg?: string): string {
    if (this.#stopped !== null) throw new AppStoppedError(`app ${this.app} is stopped: ${this.#stopped}`);
    Atomics.store(this.#flag, 0, 0);
    this.#port.postMessage({ op, arg });
    const value = this.#await(op, this.#limits.callMs + BACKSTOP_MS);
    if (op === 'init' || op === 'apply' || op === 'restore') this.#viewport = parseViewport(value);
    return value;
  }

  #await(op: string, waitMs: number): string {
    const woke = Atomics.wait(this.#flag, 0, 0, waitMs);
    const msg = receiveMessageOnPort(this.#port)?.message as Reply | undefined;
    if (woke === 'timed-out' || !msg) {
      this.#stop(`${op} did not answer within ${waitMs} ms (stuck or out of memory)`);
      throw new AppStoppedError(`app ${this.app}: ${op} did not answer within ${waitMs} ms`, { op });
    }
    if (msg.ok) return msg.value;
    if (msg.timeout) {
      this.#stop(`${op} ${msg.message}`);
      throw new AppStoppedError(`app ${this.app}: ${op} ${msg.message}`, { op });
    }
    // A throwing app may have left its state half-changed: the instance cannot be trusted any more.
    this.#stop(`${op} threw`);
    throw new AppCodeError(`app ${this.app}: ${op} threw: ${msg.message}`, { op });
  }

  #stop(reason: string): void {
    if (this.#stopped !== null) return;
    this.#stopped = reason;
    log.warn({ app: this.app, reason }, 'app instance stopped');
    void this.#worker.terminate();
  }

  /** Ends the worker (the replica closed or replaced this state). */
  dispose(): void {
    if (this.#stopped !== null) return;
    this.#stopped = 'disposed';
    void this.#worker.terminate();
  }
}

function parseViewport(json: string): Viewport {
  const v = JSON.parse(json) as { width?: unknown; height?: unknown };
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 16384;
  if (!ok(v.width) || !ok(v.height)) throw new AppCodeError('app viewport is not a whole-pixel size');
  return { width: v.width, height: v.height };
}
