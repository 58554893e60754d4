// A real writer replica without the video path (bench/lib/bench-replica.ts), small surface, empty log.
import { createBenchReplica } from '../../bench/lib/bench-replica.js';
import { writerApp } from '../../render/apps/index.js';
import type { Replica } from '../../render/replica.js';

export function smallWriterReplica(id: string): Promise<Replica<unknown>> {
  return createBenchReplica<unknown>({ id, app: writerApp, width: 320, height: 200, headSeq: 0, read: () => [] });
}
