// What a determinism check run reports, step by step and in total.

export interface CheckOptions {
  /** The app folder (manifest + entry). */
  dir: string;
  seed: number;
  steps: number;
  width: number;
  height: number;
  /** The second process replaces its state by restore(snapshot(state)) every this many steps. */
  restoreEvery: number;
}

/** One line of a check process's output: the state after applying input `seq`. */
export interface CheckStep {
  seq: number;
  stateHash: string;
  /** The hash a replica would report in its status (from the app's state digest, if it has one). */
  statusHash: string;
  pixelHash: string;
  restored: boolean;
}

export interface CheckDivergence {
  seq: number;
  /** `status hash tracking`: the status hash stayed put while the snapshot changed (or moved while it did not). */
  what: 'state hash' | 'status hash' | 'status hash tracking' | 'pixels';
  /** Whether the second process had just restored from a snapshot at this step. */
  afterRestore: boolean;
}

export interface CheckReport {
  app: string;
  steps: number;
  restores: number;
  divergence: CheckDivergence | null;
  /** Set when a process failed (the app threw, did not bundle, was stopped). */
  error: string | null;
  elapsedMs: number;
}
