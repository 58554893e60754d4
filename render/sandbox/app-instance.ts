// One sandboxed app instance: a worker thread running the app's bundle in a
// node:vm context (sandbox-worker.mjs). Calls are asynchronous message passing,
// one at a time in the order asked, so the node's own loop keeps serving its
// other replicas while app code runs; each call is bounded by its time limit
// (in the context, and by a backstop timer here), and a call that overruns
// ends the worker and the instance with it.
import { MessageChannel, Worker, type MessagePort } from 'node:worker_threads';
import { getLogger } from '../../protocol/logger.js';
import type { Viewport } from '../sdk/app-definition.js';
import { CommandReplayer } from './command-replay.js';
import { AppCodeError, AppStoppedError, type AppStopKind } from './errors.js';
import type { SandboxLimits } from './sandbox-limits.js';

const log = getLogger('sandbox');

const WORKER_URL = new URL('./sandbox-worker.mjs', import.meta.url);

/** Extra wait beyond the in-context time bound before the worker itself is presumed stuck. */
const BACKSTOP_MS = 1000;

export type SandboxOp =
  'init' | 'apply' | 'render' | 'snapshot' | 'digest' | 'restore' | 'copyText' | 'selection' | 'export';

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
  readonly #limits: SandboxLimits;
  #viewport: Viewport = { width: 0, height: 0 };
  #stopped: string | null = null;
  /** What stopped it, for the replica's typed failure reason (render/app-failure.ts). */
  #stopKind: AppStopKind = 'timeout';
  /** The call in flight: the worker answers it with the next message. */
  #inFlight: { op: string; settle: (r: Reply | Error) => void } | undefined;
  /** Calls run one after another: each waits for the one before. */
  #tail: Promise<unknown> = Promise.resolve();

  private constructor(opts: AppInstanceOptions) {
    this.app = opts.app;
    this.#limits = opts.limits;
    this.replayer = new CommandReplayer(opts.limits.maxSurfacePixels);
    const { port1, port2 } = new MessageChannel();
    this.#port = port1;
    port1.on('message', (msg: Reply) => {
      const call = this.#inFlight;
      this.#inFlight = undefined;
      call?.settle(msg);
    });
    // The pending call's backstop timer keeps the process alive while one runs; an idle instance does not.
    port1.unref();
    this.#worker = new Worker(WORKER_URL, {
      workerData: {
        port: port2,
        bundle: opts.bundle,
        fonts: opts.fontsJson,
        limits: {
          callMs: opts.limits.callMs,
          maxCommands: opts.limits.maxCommands,
          maxImagePixels: opts.limits.maxSurfacePixels,
        },
      },
      transferList: [port2],
      resourceLimits: { maxOldGenerationSizeMb: opts.limits.heapMb, maxYoungGenerationSizeMb: 32 },
      // No env, no stdio worth having: the app cannot reach them anyway, and the host's stay private.
      env: {},
      stdout: true,
      stderr: true,
    });
    this.#worker.on('error', (err) => {
      this.#stop(`worker died: ${err.message}`, 'memory');
    });
    this.#worker.on('exit', () => {
      // Out of memory (or terminated): the call in flight gets no answer.
      this.#stop('worker exited', 'memory');
    });
    this.#worker.unref();
  }

  /** Starts a worker and loads the bundle; throws AppCodeError if the bundle does not load. */
  static async start(opts: AppInstanceOptions): Promise<AppInstance> {
    const instance = new AppInstance(opts);
    await instance.#await('load', opts.limits.startMs);
    return instance;
  }

  get viewport(): Viewport {
    return this.#viewport;
  }

  get stopped(): boolean {
    return this.#stopped !== null;
  }

  /** Runs `op` in the app, after the calls asked before it; the viewport answer of state-changing ops is cached. */
  call(op: SandboxOp, arg?: string): Promise<string> {
    const run = this.#tail.then(() => this.#run(op, arg));
    this.#tail = run.catch(() => undefined);
    return run;
  }

  async #run(op: SandboxOp, arg: string | undefined): Promise<string> {
    if (this.#stopped !== null) {
      throw new AppStoppedError(`app ${this.app} is stopped: ${this.#stopped}`, { op, stop: this.#stopKind });
    }
    const answer = this.#await(op, this.#limits.callMs + BACKSTOP_MS);
    this.#port.postMessage({ op, arg });
    const value = await answer;
    if (op === 'init' || op === 'apply' || op === 'restore') this.#viewport = parseViewport(value);
    return value;
  }

  /** The worker's next answer, read as the answer to `op`. */
  async #await(op: string, waitMs: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const msg = await new Promise<Reply | Error>((resolve) => {
      this.#inFlight = { op, settle: resolve };
      timer = setTimeout(() => {
        this.#inFlight = undefined;
        resolve(new Error('timed out'));
      }, waitMs);
    }).finally(() => clearTimeout(timer));
    if (msg instanceof Error) {
      this.#stop(`${op} did not answer within ${waitMs} ms (stuck or out of memory)`, 'timeout');
      throw new AppStoppedError(`app ${this.app}: ${op} did not answer within ${waitMs} ms`, {
        op,
        stop: this.#stopKind,
      });
    }
    if (msg.ok) return msg.value;
    if (msg.timeout) {
      this.#stop(`${op} ${msg.message}`, 'timeout');
      throw new AppStoppedError(`app ${this.app}: ${op} ${msg.message}`, { op, stop: this.#stopKind });
    }
    // A throwing app may have left its state half-changed: the instance cannot be trusted any more.
    this.#stop(`${op} threw`, 'threw');
    throw new AppCodeError(`app ${this.app}: ${op} threw: ${msg.message}`, { op });
  }

  #stop(reason: string, kind: AppStopKind): void {
    if (this.#stopped !== null) return;
    this.#stopped = reason;
    this.#stopKind = kind;
    log.warn({ app: this.app, reason }, 'app instance stopped');
    this.#settleInFlight();
    void this.#worker.terminate();
  }

  /** A call waiting on a worker that is gone fails now rather than at its backstop. */
  #settleInFlight(): void {
    const call = this.#inFlight;
    this.#inFlight = undefined;
    call?.settle({ ok: false, timeout: true, message: `stopped: ${this.#stopped ?? ''}` });
  }

  /** Ends the worker (the replica closed or replaced this state). */
  dispose(): void {
    if (this.#stopped !== null) return;
    this.#stopped = 'disposed';
    this.#settleInFlight();
    this.#port.close();
    void this.#worker.terminate();
  }
}

function parseViewport(json: string): Viewport {
  const v = JSON.parse(json) as { width?: unknown; height?: unknown };
  const ok = (n: unknown): n is number => typeof n === 'number' && Number.isInteger(n) && n > 0 && n <= 16384;
  if (!ok(v.width) || !ok(v.height)) throw new AppCodeError('app viewport is not a whole-pixel size');
  return { width: v.width, height: v.height };
}
