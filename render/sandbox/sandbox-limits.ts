// Bounds on one sandboxed app instance (values and env overrides: render/config.ts).
export interface SandboxLimits {
  /** Longest one init/apply/render/snapshot/restore call may run. */
  callMs: number;
  /** Worker heap (V8 old generation) in MiB. */
  heapMb: number;
  /** Drawing commands recorded between two frames. */
  maxCommands: number;
  /** Pixels of all offscreen surfaces of one instance together. */
  maxSurfacePixels: number;
  /** How long a new instance may take to start and load its bundle. */
  startMs: number;
}
