// Sessions and replicas as the server reports them to viewers and operators.
import { z } from 'zod';
import type { AppInputs } from './app-inputs.js';
import { LIMITS } from './limits.js';
import type { SelectionGeometry } from './selection.js';
import type { AppFailure } from './replica-failure.js';

export const IdSchema = z
  .string()
  .min(1)
  .max(LIMITS.maxIdLength)
  .regex(/^[A-Za-z0-9_.:-]+$/, 'ids are [A-Za-z0-9_.:-]');

/** An app is pinned by name + content hash of its code: versions are never mixed. */
export const AppRefSchema = z
  .object({
    name: z
      .string()
      .min(1)
      .max(LIMITS.maxAppNameLength)
      .regex(/^[a-z][a-z0-9-]*$/),
    hash: z.string().regex(/^[0-9a-f]{16,64}$/),
  })
  .strict();
export type AppRef = z.infer<typeof AppRefSchema>;

export const REPLICA_STATES = ['starting', 'catching-up', 'live', 'quarantined', 'closed'] as const;
export type ReplicaState = (typeof REPLICA_STATES)[number];

export interface ReplicaHealth {
  /** Milliseconds since the replica's node last reported this replica. */
  heartbeatAgeMs: number;
  /** Session head seq minus the replica's applied seq. */
  lagSeq: number;
  /** mediasoup producer score (0..10), null before the first score event. */
  producerScore: number | null;
}

/** The server's judgement of a replica (server/session-core/replica-health.ts): stale = viewers move off it, dead = replaced. */
export type ReplicaVerdict = 'healthy' | 'lagging' | 'stale' | 'dead';

export interface ReplicaInfo {
  replicaId: string;
  sessionId: string;
  nodeId: string;
  hostId: string;
  state: ReplicaState;
  producerId: string | null;
  appliedSeq: number;
  stateHash: string | null;
  health: ReplicaHealth;
  /** Where its app's selection ends are (as its renderer reports: positions touch handles only), or null. */
  selection: SelectionGeometry | null;
  /** The server's verdict when it sent this (absent for a replica it does not track yet). */
  verdict?: ReplicaVerdict;
}

export interface SessionInfo {
  sessionId: string;
  app: AppRef;
  replicationFactor: number;
  width: number;
  height: number;
  createdAt: number;
  headSeq: number;
  replicas: ReplicaInfo[];
  /** What the app's manifest says about the inputs it reads (protocol/app-inputs.ts): which the viewer sends. */
  inputs: AppInputs;
  /** Set once the app failed deterministically (replicas on enough hosts failed at this input): no more replicas run. */
  appFailure?: AppFailure;
}

export interface AppCatalogEntry {
  name: string;
  hash: string;
  title: string;
}
