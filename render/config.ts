// Renderer node configuration: one typed place, defaults overridden by environment.
import { cpus, homedir, hostname } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_APP_POLICY, parseAppPolicy, type AppPolicy } from '../protocol/bundle.js';
import { envBool, envInt as int, envStr } from '../protocol/env.js';
import { NODE_PING_INTERVAL_MS, NODE_SILENCE_MIN_MS, NODE_SILENCE_MS } from '../protocol/node-liveness.js';
import { normalizeServerUrls } from './cli-options.js';
import type { SandboxLimits } from './sandbox/sandbox-limits.js';

export interface RenderConfig {
  /** Server base URLs, e.g. http://127.0.0.1:3000, tried in turn (LOCKSTEP_SERVER_URL, comma-separated). */
  serverUrls: string[];
  /** With no server, replicas keep running this long (their state kept) for a server to adopt them. */
  holdReplicasMs: number;
  /** Backoff bounds between connection attempts to one server URL (render/server-rotation.ts). */
  reconnectBaseMs: number;
  reconnectMaxMs: number;
  /** A connection attempt that has not connected by then has failed (a dead host costs no more). */
  connectTimeoutMs: number;
  /** A `node.ping` to the current server this often (protocol/node-liveness.ts; LOCKSTEP_NODE_PING_INTERVAL_MS). */
  nodePingIntervalMs: number;
  /** Nothing heard from the current server for this long: leave it (LOCKSTEP_NODE_SILENCE_MS; render/link-liveness.ts). */
  nodeSilenceMs: number;
  /** How often the cluster's server list is fetched again (GET /api/servers; also on every connect). */
  serverListRefreshMs: number;
  /** Cluster join token (issued by the server operator). */
  joinToken: string | undefined;
  nodeId: string;
  /** Host identity: replicas of one session never share a host. */
  hostId: string;
  maxReplicas: number;
  /** Upper bound on frames per second per replica (30 by default, 60 allowed). */
  maxFps: number;
  /** When nothing changes, re-send the last frame this often so viewers can tell alive from frozen. */
  keepaliveMs: number;
  /** How often each replica reports applied seq + state hash. */
  statusIntervalMs: number;
  /**
   * A replica nobody watches (a warm standby) reports on every this many status
   * ticks: its report is liveness and a hash vote, not a picture anyone waits for.
   */
  standbyStatusEvery: number;
  /** VP8 bitrate ceiling per replica. */
  maxBitrate: number;
  /**
   * The floor of the sender's bandwidth estimate (and its start), per replica. wrtc paces packets at 2.5× the
   * estimate: on a loaded host the delay-based estimate sinks (to ~0.5 Mbit/s measured) and a keystroke's
   * 3–5 kB frame then leaves over tens of milliseconds. The node → SFU link is a LAN or loopback. Default: the
   * ceiling (LOCKSTEP_MIN_BITRATE; 0: wrtc's own estimate, unfloored).
   */
  minBitrate: number;
  /** App names this node keeps warm (specialises in); undefined = all it has. */
  warmApps: string[] | undefined;
  /** What the node's owner lets it run (`--apps`): built-in apps always; published bundles only if opted in. */
  appPolicy: AppPolicy;
  /** Where fetched bundles are cached, and how many bytes of them at most (least recently used evicted). */
  bundleCacheDir: string;
  bundleCacheBytes: number;
  /** Fault injection for tests: corrupt the state after this many applied inputs (0 = off). */
  faultCorruptAfter: number;
  /**
   * Fault injection for tests: behave as a hostile node that keeps honest state
   * and honest status reports but sends forged snapshots (unsolicited, and in
   * answer to every checkpoint).
   */
  faultForgeSnapshots: boolean;
  /**
   * Fault injection for tests: behave as a lying node that reports the app
   * failed at this seq (once it applied it; the app is fine) and closes the
   * replica, for every replica it runs (0 = off).
   */
  faultFailAtSeq: number;
  /**
   * Fault injection for tests: hold each replica this long after its video is produced and its app started,
   * before the node lists it (a slow start under load, stretched: the server counts it live already). 0 = off.
   */
  faultSlowStartMs: number;
  /** Write a per-frame trace of every replica here (the latency bench's split); undefined = off. */
  traceDir: string | undefined;
  /** A young-generation collection after every rendered frame (render/frame-gc.ts); LOCKSTEP_FRAME_GC=0 turns it off. */
  frameGc: boolean;
}

/** The link-liveness bounds: the silence bound stays above its floor and several ping intervals (no flapping). */
function nodeLiveness(): Pick<RenderConfig, 'nodePingIntervalMs' | 'nodeSilenceMs'> {
  const nodePingIntervalMs = Math.max(50, int('LOCKSTEP_NODE_PING_INTERVAL_MS', NODE_PING_INTERVAL_MS));
  const nodeSilenceMs = Math.max(
    NODE_SILENCE_MIN_MS,
    4 * nodePingIntervalMs,
    int('LOCKSTEP_NODE_SILENCE_MS', NODE_SILENCE_MS),
  );
  return { nodePingIntervalMs, nodeSilenceMs };
}

export function loadRenderConfig(overrides: Partial<RenderConfig> = {}): RenderConfig {
  const host = process.env.LOCKSTEP_HOST_ID ?? hostname();
  const maxBitrate = int('LOCKSTEP_MAX_BITRATE', 2_500_000);
  const base: RenderConfig = {
    serverUrls: normalizeServerUrls(process.env.LOCKSTEP_SERVER_URL ?? 'http://127.0.0.1:3000'),
    holdReplicasMs: int('LOCKSTEP_HOLD_REPLICAS_MS', 30_000),
    reconnectBaseMs: int('LOCKSTEP_RECONNECT_BASE_MS', 250),
    // Capped low: a refused connection costs nothing, and with a 1 s cap the attempts
    // fall at 0.25, 0.75, 1.75 s, so a server back after 0.8 s waited another second.
    reconnectMaxMs: int('LOCKSTEP_RECONNECT_MAX_MS', 500),
    connectTimeoutMs: int('LOCKSTEP_CONNECT_TIMEOUT_MS', 2000),
    serverListRefreshMs: int('LOCKSTEP_SERVER_LIST_REFRESH_MS', 10_000),
    ...nodeLiveness(),
    joinToken: process.env.LOCKSTEP_JOIN_TOKEN,
    nodeId: process.env.LOCKSTEP_NODE_ID ?? `${host}-${process.pid}`,
    hostId: host,
    maxReplicas: int('LOCKSTEP_MAX_REPLICAS', Math.max(1, cpus().length * 2)),
    maxFps: Math.min(60, Math.max(1, int('LOCKSTEP_MAX_FPS', 30))),
    keepaliveMs: int('LOCKSTEP_KEEPALIVE_MS', 200),
    statusIntervalMs: int('LOCKSTEP_STATUS_INTERVAL_MS', 250),
    standbyStatusEvery: Math.max(1, int('LOCKSTEP_STANDBY_STATUS_EVERY', 2)),
    maxBitrate,
    minBitrate: int('LOCKSTEP_MIN_BITRATE', maxBitrate),
    appPolicy: parseAppPolicy(envStr('LOCKSTEP_APPS') ?? DEFAULT_APP_POLICY.kind),
    bundleCacheDir: envStr('LOCKSTEP_BUNDLE_CACHE_DIR') ?? join(homedir(), '.cache', 'lockstep', 'bundles'),
    bundleCacheBytes: int('LOCKSTEP_BUNDLE_CACHE_MB', 512) * 1024 * 1024,
    faultCorruptAfter: int('LOCKSTEP_FAULT_CORRUPT_AFTER', 0),
    faultForgeSnapshots: process.env.LOCKSTEP_FAULT_FORGE_SNAPSHOTS === '1',
    faultFailAtSeq: int('LOCKSTEP_FAULT_FAIL_AT_SEQ', 0),
    faultSlowStartMs: int('LOCKSTEP_FAULT_SLOW_START_MS', 0),
    traceDir: envStr('LOCKSTEP_TRACE_DIR'),
    frameGc: envBool('LOCKSTEP_FRAME_GC', true),
    warmApps: process.env.LOCKSTEP_WARM_APPS
      ? process.env.LOCKSTEP_WARM_APPS.split(',')
          .map((a) => a.trim())
          .filter(Boolean)
      : undefined,
  };
  return { ...base, ...overrides };
}

/** Bounds on every sandboxed app instance (published apps). */
export function loadSandboxLimits(overrides: Partial<SandboxLimits> = {}): SandboxLimits {
  return {
    callMs: int('LOCKSTEP_APP_CALL_MS', 500),
    heapMb: int('LOCKSTEP_APP_HEAP_MB', 256),
    maxCommands: int('LOCKSTEP_APP_MAX_COMMANDS', 500_000),
    maxSurfacePixels: int('LOCKSTEP_APP_MAX_SURFACE_PIXELS', 32 * 1024 * 1024),
    startMs: int('LOCKSTEP_APP_START_MS', 5000),
    ...overrides,
  };
}
