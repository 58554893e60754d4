// Optional per-frame trace of a renderer node (LOCKSTEP_TRACE_DIR), for the
// latency bench's split of where the time between a keydown and its frame
// goes on the node: inputs arriving, applied, the render waiting its turn,
// render + read-back + I420, the hand-off to wrtc, and the encoder's own
// counters (frames encoded, encode time, pacer delay). One JSON line per
// event, times in epoch milliseconds (performance.timeOrigin + now) so the
// bench can set them beside the page's clock on the same machine.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { PerformanceObserver } from 'node:perf_hooks';
import { getLogger } from '../protocol/logger.js';
import type { FrameTiming } from './replica.js';
import type { EncoderStats } from './video-producer.js';

const log = getLogger('frame-trace');

const epoch = (t: number) => Math.round((performance.timeOrigin + t) * 1000) / 1000;

export type FrameTraceRecord =
  | { kind: 'inputs'; replicaId: string; seq: number; at: number }
  | {
      kind: 'frame';
      replicaId: string;
      seq: number;
      dirtyAt: number;
      startedAt: number;
      renderedAt: number;
      pushedAt: number;
    }
  | ({ kind: 'encoder'; replicaId: string; at: number } & EncoderStats)
  /** Work off the frame path that competes for the CPU: a thumbnail encode, a garbage collection. */
  | {
      kind: 'busy';
      what: 'thumbnail' | 'gc';
      node: string;
      replicaId: string | null;
      startedAt: number;
      endedAt: number;
    };

export class FrameTrace {
  readonly #out: WriteStream;
  readonly #name: string;
  readonly #gc: PerformanceObserver;

  private constructor(out: WriteStream, name: string) {
    this.#out = out;
    this.#name = name;
    out.on('error', (err) => log.warn({ err }, 'frame trace not written'));
    this.#gc = new PerformanceObserver((list) => {
      for (const e of list.getEntries()) this.busy('gc', null, e.startTime, e.startTime + e.duration);
    });
    this.#gc.observe({ entryTypes: ['gc'] });
  }

  /** A trace into `dir`/`name`.jsonl (appended). */
  static create(dir: string, name: string): FrameTrace {
    mkdirSync(dir, { recursive: true });
    return new FrameTrace(createWriteStream(join(dir, `${name}.jsonl`), { flags: 'a' }), name);
  }

  /** Work off the frame path between two performance.now() times. */
  busy(what: 'thumbnail' | 'gc', replicaId: string | null, startedAt: number, endedAt: number): void {
    this.#write({
      kind: 'busy',
      what,
      node: this.#name,
      replicaId,
      startedAt: epoch(startedAt),
      endedAt: epoch(endedAt),
    });
  }

  #write(rec: FrameTraceRecord): void {
    this.#out.write(`${JSON.stringify(rec)}\n`);
  }

  /** Inputs through `seq` arrived for `replicaId` (performance.now() time). */
  inputs(replicaId: string, seq: number, at: number): void {
    this.#write({ kind: 'inputs', replicaId, seq, at: epoch(at) });
  }

  frame(replicaId: string, seq: number, t: FrameTiming): void {
    this.#write({
      kind: 'frame',
      replicaId,
      seq,
      dirtyAt: epoch(t.dirtyAt),
      startedAt: epoch(t.startedAt),
      renderedAt: epoch(t.renderedAt),
      pushedAt: epoch(t.pushedAt),
    });
  }

  encoder(replicaId: string, stats: EncoderStats): void {
    this.#write({ kind: 'encoder', replicaId, at: epoch(performance.now()), ...stats });
  }

  close(): void {
    this.#gc.disconnect();
    this.#out.end();
  }
}
