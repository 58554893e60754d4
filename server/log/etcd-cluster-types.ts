// Types of the local etcd cluster launcher (etcd-cluster.ts).

export interface EtcdClusterOptions {
  /** Members to start (default 3: a majority survives losing any one). */
  members?: number;
  /** Parent of the members' data dirs; default a fresh temp dir, removed by close(). */
  dataDir?: string;
  /** The etcd binary (default `etcd` on PATH, Debian's etcd-server). */
  binary?: string;
  /** Raft heartbeat in ms (default 25: fast failover on one machine). */
  heartbeatIntervalMs?: number;
  /** Raft election timeout in ms (default 250). */
  electionTimeoutMs?: number;
  /** How long start() and restart() wait for the members to be healthy (default 20 s). */
  startTimeoutMs?: number;
  /** Address the members listen on (default 127.0.0.1). */
  host?: string;
}

export interface EtcdMemberInfo {
  name: string;
  /** The client URL (what `--store etcd:` takes). */
  clientUrl: string;
  peerUrl: string;
  dataDir: string;
  /** OS pid while running, null when stopped. */
  pid: number | null;
}

/** How a member's process ended. */
export interface EtcdMemberExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** True when stop(), kill() or close() asked for it; false for a crash. */
  requested: boolean;
  /** Date.now() when it was seen to exit. */
  at: number;
}
