// window.__lockstep: live, read-only state for tests and debugging. Fields
// are getters, so a test reading it always sees the current values.
import type { StreamMode, StreamView } from './stream-manager.js';
import type { ConnectionState } from './session-client.js';
import type { GrabbedFrame } from './frame-grab.js';
import type { ProbeCounts } from './probe-policy.js';
import type { TileDisplayState } from './tile-display.js';

export interface SwitchEntry {
  at: number;
  from: string | null;
  to: string;
  reason: string;
  /** What failed on the stream left (hard-failure switches), else null. */
  cause: string | null;
}

/** One input-to-photon measurement (performance.now() times in the page). */
export interface LatencySample {
  /** Server seq of the input. */
  seq: number;
  /** The input was first sent (same task as its keydown/click). */
  sentAt: number;
  /** The server's ack arrived. */
  ackedAt: number;
  /**
   * The live stream first showed a frame stamped ≥ seq: with frame callbacks (`?stamps=frame`) when its
   * requestVideoFrameCallback ran (presented); with the default track processor when it was decoded (a few ms
   * earlier, and none of the presentation times below).
   */
  shownAt: number;
  /** That frame's last packet arrived (rVFC receiveTime, or the processor's VideoFrame metadata; absent where the browser lacks it). */
  receivedAt?: number;
  /** That frame was handed to the compositor (rVFC presentationTime; frame callbacks only). */
  presentedAt?: number;
  /** When the compositor expected it on the display (rVFC expectedDisplayTime). */
  expectedDisplayAt?: number;
  /** The rendering step its callback ran in began (the rVFC callback's `now`). */
  frameAt?: number;
  replicaId: string | null;
}

export interface LockstepHook {
  /** True once the live stream is showing frames. */
  readonly ready: boolean;
  readonly sessionId: string | null;
  readonly liveReplicaId: string | null;
  readonly liveHostId: string | null;
  /** Last stamp decoded from the live stream (the seq its picture reflects). */
  readonly displayedSeq: number | null;
  /** Highest seq the server acknowledged for this viewer's inputs. */
  readonly ackedSeq: number;
  readonly pendingInputs: number;
  readonly switches: SwitchEntry[];
  readonly mode: StreamMode;
  readonly appWidth: number;
  readonly appHeight: number;
  /** The live frame's app area at app resolution, RGBA as base64; null before the first frame. */
  grabFrame(): GrabbedFrame | null;
  // Extras for debugging.
  readonly connection: ConnectionState;
  /** The server (origin) this viewer's inputs go through now; null when none (or no session). */
  readonly inputServer?: string | null;
  /** The server (origin) homing the shown replica; null before one shows. */
  readonly liveServer?: string | null;
  readonly sentInputs: number;
  readonly clientId: string | null;
  /** Input-to-photon latency of the latest input seen on screen (ms). */
  readonly lastLatencyMs: number | null;
  /** Recent input-to-photon samples, oldest first (for benchmarks). */
  readonly latencySamples: readonly LatencySample[];
  readonly streams: StreamView[];
  /** Warm mode's probes of standbys so far (viewer/probe-policy.ts); absent while no session is open. */
  readonly probes?: ProbeCounts;
  /** The tile display's state (`?display=tiles`); null for video only, absent while no session is open. */
  readonly tiles?: TileDisplayState | null;
}

declare global {
  interface Window {
    __lockstep?: LockstepHook;
  }
}

/** Publishes the hook; pass an object literal with getters so reads stay live. */
export function installHook(hook: LockstepHook): void {
  window.__lockstep = hook;
}

/** The hook while no session is open (the session list). */
export function idleHook(mode: StreamMode, connection: () => ConnectionState): LockstepHook {
  return {
    ready: false,
    sessionId: null,
    liveReplicaId: null,
    liveHostId: null,
    displayedSeq: null,
    ackedSeq: 0,
    pendingInputs: 0,
    switches: [],
    mode,
    appWidth: 0,
    appHeight: 0,
    grabFrame: () => null,
    get connection() {
      return connection();
    },
    sentInputs: 0,
    clientId: null,
    lastLatencyMs: null,
    latencySamples: [],
    streams: [],
  };
}
