// Optional per-frame trace of a renderer node (LOCKSTEP_TRACE_DIR), for the
// latency bench's split of where the time between a keydown and its frame
// goes on the node: inputs arriving, applied, the render waiting its turn,
// render + read-back + I420, the hand-off to wrtc, and the encoder's own
// counters (frames encoded, encode time, pacer delay). One JSON line per
// event, times in epoch milliseconds (performance.timeOrigin + now) so the
// bench can set them beside the page's clock on the same machine.
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
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
  | ({ kind: 'encoder'; replicaId: string; at: number } & EncoderStats);

export class FrameTrace {
  readonly #out: WriteStream;

  private constructor(out: WriteStream) {
    this.#out = out;
    out.on('error', (err) => log.warn({ err }, 'frame trace not written'));
  }

  /** A trace into `dir`/`name`.jsonl (appended). */
  static create(dir: string, name: string): FrameTrace {
    mkdirSync(dir, { recursive: true });
    return new FrameTrace(createWriteStream(join(dir, `${name}.jsonl`), { flags: 'a' }));
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
    this.#out.end();
  }
}
