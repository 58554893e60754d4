// Replicas for benchmarks: the state machine and the frame renderer, no video
// path (no wrtc encode, no mediasoup), fed from a log the benchmark supplies.
// The one place that knows the Replica's options, so API changes land here.
import type { SequencedInput } from '../../protocol/input.js';
import type { App } from '../../render/app-types.js';
import type { ReplicaApp } from '../../render/replica-app.js';
import { Replica } from '../../render/replica.js';
import type { ProducerSignalling } from '../../render/video-producer.js';

const noVideo = (): Promise<never> => Promise.reject(new Error('benchmark replicas have no video path'));

/** Signalling that fails loudly if anything tries the video path. */
export const noSignalling: ProducerSignalling = {
  createTransport: noVideo,
  connectTransport: noVideo,
  produce: noVideo,
};

export interface BenchReplicaOptions<S> {
  id: string;
  app: App<S> | ReplicaApp<S>;
  width: number;
  height: number;
  /** Head of the log at assignment: the replica catches up to it. */
  headSeq: number;
  /** Log entries with fromSeq <= seq <= toSeq (the replica asks in maxFetchBatch ranges). */
  read(fromSeq: number, toSeq: number): SequencedInput[] | Promise<SequencedInput[]>;
  maxFps?: number;
}

export function createBenchReplica<S>(opts: BenchReplicaOptions<S>): Promise<Replica<S>> {
  return Replica.create({
    assignment: {
      replicaId: `${opts.id}.r1`,
      sessionId: opts.id,
      app: { name: opts.app.name, hash: '0000000000000000' },
      width: opts.width,
      height: opts.height,
      headSeq: opts.headSeq,
      snapshot: null,
    },
    app: opts.app,
    maxFps: opts.maxFps ?? 30,
    keepaliveMs: 200,
    maxBitrate: 2_500_000,
    signalling: noSignalling,
    withoutVideo: true,
    fetchInputs: async (from, to) => ({ inputs: await opts.read(from, to), compactedThrough: 0 }),
    fetchSnapshot: () => Promise.resolve(null),
  });
}
