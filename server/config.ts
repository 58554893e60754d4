// Server configuration: one typed place, defaults overridden by environment.
import { cpus } from 'node:os';
import { join } from 'node:path';
import { envBool as bool, envInt as int, envStr as str } from '../protocol/env.js';
import { LIMITS } from '../protocol/limits.js';
import type { HomeRebalanceOptions } from './cluster/home-rebalance.js';
import { parseStoreSpec, type StoreSpec } from './log/store-spec.js';

export interface ServerConfig {
  /** HTTP + socket.io listen address and port (0 picks a free port). */
  host: string;
  port: number;
  /** Directory holding the SQLite database (sessions, tokens; the input log unless `store` says otherwise). */
  dataDir: string;
  /** The durable input log (LOCKSTEP_STORE / --store): sqlite (default), sqlite:PATH or etcd:URL,URL,URL. */
  store: StoreSpec;
  mediasoup: {
    numWorkers: number;
    /** IP the WebRtcTransports listen on. */
    listenIp: string;
    /** IP announced in ICE candidates (a LAN address when hosts are separate machines). */
    announcedIp: string | undefined;
    rtcMinPort: number;
    rtcMaxPort: number;
    enableUdp: boolean;
    /** ICE over TCP: the fallback where UDP is blocked. */
    enableTcp: boolean;
    initialAvailableOutgoingBitrate: number;
    /**
     * Negotiate the playout-delay RTP header extension so the (patched) worker
     * marks video min = max = 0: browsers then show each frame as soon as it is
     * decoded instead of smoothing playout (interactive screen content).
     */
    zeroPlayoutDelay: boolean;
    /**
     * The tile display (viewer `?display=tiles`, docs/tile-display.md): SCTP on the renderer nodes' send
     * transports, so each replica also produces a display channel, and on the receive transports of viewers
     * that ask for it. Off: nodes produce video only and `tiles.consume` is refused.
     */
    tileDisplay: boolean;
  };
  sessions: {
    defaultReplicationFactor: number;
    defaultWidth: number;
    defaultHeight: number;
    defaultApp: string;
  };
  /** How often the server pushes health to viewers (ms). */
  healthIntervalMs: number;
  /** Store a snapshot (and compact the log behind it) every this many inputs. */
  snapshotEvery: number;
  /** A node with no heartbeat for this long is declared dead, even if its socket is open (hung host). */
  nodeDeadAfterMs: number;
  /**
   * After a start, how long sessions loaded from the store wait for their
   * nodes to come back and announce the replicas they kept running (adopted,
   * not rebuilt) before fresh ones are placed.
   */
  adoptionWindowMs: number;
  /** A replica with no status for this long is stale: viewers move off it. */
  replicaStaleAfterMs: number;
  /**
   * Inputs for a replica nobody watches (a warm standby) wait up to this long
   * and go out together (server/standby-inputs.ts); 0 sends each at once.
   */
  standbyInputHoldMs: number;
  /** A replica with no status for this long is dead and replaced. */
  replicaDeadAfterMs: number;
  /** Optional TLS: serve HTTPS when both are set (clipboard APIs need a secure context off localhost). */
  tls: { certPath: string; keyPath: string } | undefined;
  security: SecurityConfig;
  /** Used only with `--store etcd:` (several servers over one etcd). */
  cluster: ClusterConfig;
}

export interface ClusterConfig {
  /** --advertise / LOCKSTEP_ADVERTISE: the URL nodes, viewers and other servers reach this server at (default: its own URL). */
  advertise: string | undefined;
  /** LOCKSTEP_SERVER_ID: this server's id in the registry (default: derived from the advertise URL's host:port). */
  serverId: string | undefined;
  /** LOCKSTEP_CLUSTER_SECRET: authenticates what servers say to each other; required unless insecureDev. */
  secret: string | undefined;
  /** LOCKSTEP_SFU_CAPACITY: replicas this server's SFU takes, as published in the registry. */
  sfuCapacity: number;
  /**
   * Client TLS to etcd (--etcd-ca/--etcd-cert/--etcd-key, LOCKSTEP_ETCD_CA/_CERT/_KEY: PEM files): the CA
   * that signed the members' certificates, and this server's client certificate and key when the members
   * require one (--client-cert-auth). Undefined: plain or system-trusted connections as the URLs say.
   */
  etcdTls: EtcdTlsFiles | undefined;
  /** The leader's upkeep of etcd (compaction, defragmentation, purge of closed sessions). */
  upkeep: UpkeepConfig;
  /**
   * LOCKSTEP_REHOME_HOLD_MS: the leader keeps a replica whose node left the node directory this long
   * (the node keeps it running while it finds another home server) before placing it elsewhere (default 10 s).
   */
  rehomeHoldMs: number;
  /**
   * The leader's rebalance of node homes (server/cluster/home-rebalance.ts), null when off
   * (LOCKSTEP_REBALANCE=0). LOCKSTEP_REBALANCE_SETTLE_MS: a server must be up this long before nodes move to
   * it (default 3 s); LOCKSTEP_REBALANCE_GAP_MS: between one move ending and the next (default 5 s);
   * LOCKSTEP_REBALANCE_NODE_COOLDOWN_MS: a node is not moved again within (default 60 s);
   * LOCKSTEP_REBALANCE_DIRECTIVE_TTL_MS: a directive not carried out within this is void (default 15 s).
   */
  rebalance: HomeRebalanceOptions | null;
}

export interface EtcdTlsFiles {
  caPath: string | undefined;
  certPath: string | undefined;
  keyPath: string | undefined;
}

export interface UpkeepConfig {
  /** LOCKSTEP_UPKEEP_EVERY_MS: one pass every this many ms (default 5 minutes). */
  everyMs: number;
  /** LOCKSTEP_UPKEEP_DEFRAG_EVERY: defragment every this many passes (default 12: hourly). */
  defragEvery: number;
  /** LOCKSTEP_UPKEEP_KEEP_REVISIONS: revisions kept behind the head by compaction (default 10 000). */
  keepRevisions: number;
}

export interface SecurityConfig {
  /** Cluster join token renderer nodes present once; required unless insecureDev. */
  joinToken: string | undefined;
  /** LOCKSTEP_INSECURE_DEV=1: nodes may join without a join token (never on a network). */
  insecureDev: boolean;
  /** Operator-chosen owner token (LOCKSTEP_OWNER_TOKEN); otherwise one is generated and printed once. */
  ownerToken: string | undefined;
  /** Lifetime of owner tokens (the env one is renewed at every start). */
  ownerTokenTtlMs: number;
  /** Lifetime of a node credential; a node with an expired one re-joins with the join token. */
  nodeCredentialTtlMs: number;
  /**
   * Browser origins (scheme://host[:port]) treated like the server's own and
   * the cluster's (LOCKSTEP_ALLOWED_ORIGINS, comma-separated): CORS grants on
   * the viewer's routes even on tokenless answers. Any other http(s) page, and
   * clients that send no Origin (renderer nodes, CLIs), are judged by their
   * token alone (origin-rule.ts).
   */
  allowedOrigins: string[];
}

export function loadServerConfig(overrides: Partial<ServerConfig> = {}): ServerConfig {
  const certPath = str('LOCKSTEP_TLS_CERT');
  const keyPath = str('LOCKSTEP_TLS_KEY');
  const base: ServerConfig = {
    host: str('LOCKSTEP_HOST') ?? '127.0.0.1',
    port: int('LOCKSTEP_PORT', 3000),
    dataDir: str('LOCKSTEP_DATA_DIR') ?? join(process.cwd(), 'data'),
    store: parseStoreSpec(str('LOCKSTEP_STORE') ?? 'sqlite'),
    mediasoup: {
      numWorkers: int('LOCKSTEP_MEDIASOUP_WORKERS', Math.max(1, cpus().length)),
      listenIp: str('LOCKSTEP_LISTEN_IP') ?? '127.0.0.1',
      announcedIp: str('LOCKSTEP_ANNOUNCED_IP'),
      rtcMinPort: int('LOCKSTEP_RTC_MIN_PORT', 40000),
      rtcMaxPort: int('LOCKSTEP_RTC_MAX_PORT', 49999),
      enableUdp: bool('LOCKSTEP_ENABLE_UDP', true),
      enableTcp: bool('LOCKSTEP_ENABLE_TCP', true),
      initialAvailableOutgoingBitrate: int('LOCKSTEP_INITIAL_BITRATE', 3_000_000),
      zeroPlayoutDelay: bool('LOCKSTEP_ZERO_PLAYOUT_DELAY', true),
      tileDisplay: bool('LOCKSTEP_TILE_DISPLAY', true),
    },
    sessions: {
      defaultReplicationFactor: int('LOCKSTEP_REPLICAS', 3),
      defaultWidth: int('LOCKSTEP_WIDTH', 1280),
      defaultHeight: int('LOCKSTEP_HEIGHT', 720),
      defaultApp: str('LOCKSTEP_DEFAULT_APP') ?? 'writer',
    },
    healthIntervalMs: int('LOCKSTEP_HEALTH_INTERVAL_MS', 250),
    snapshotEvery: int('LOCKSTEP_SNAPSHOT_EVERY', 1000),
    nodeDeadAfterMs: int('LOCKSTEP_NODE_DEAD_AFTER_MS', 4000),
    adoptionWindowMs: int('LOCKSTEP_ADOPTION_WINDOW_MS', 2500),
    replicaStaleAfterMs: int('LOCKSTEP_REPLICA_STALE_AFTER_MS', 1500),
    standbyInputHoldMs: int('LOCKSTEP_STANDBY_INPUT_HOLD_MS', 250),
    replicaDeadAfterMs: int('LOCKSTEP_REPLICA_DEAD_AFTER_MS', 5000),
    tls: certPath && keyPath ? { certPath, keyPath } : undefined,
    cluster: {
      advertise: str('LOCKSTEP_ADVERTISE'),
      serverId: str('LOCKSTEP_SERVER_ID'),
      secret: str('LOCKSTEP_CLUSTER_SECRET'),
      sfuCapacity: int('LOCKSTEP_SFU_CAPACITY', 64),
      etcdTls: etcdTlsFromEnv(),
      upkeep: {
        everyMs: int('LOCKSTEP_UPKEEP_EVERY_MS', 300_000),
        defragEvery: int('LOCKSTEP_UPKEEP_DEFRAG_EVERY', 12),
        keepRevisions: int('LOCKSTEP_UPKEEP_KEEP_REVISIONS', 10_000),
      },
      rehomeHoldMs: int('LOCKSTEP_REHOME_HOLD_MS', 10_000),
      rebalance: bool('LOCKSTEP_REBALANCE', true)
        ? {
            settleMs: int('LOCKSTEP_REBALANCE_SETTLE_MS', 3000),
            gapMs: int('LOCKSTEP_REBALANCE_GAP_MS', 5000),
            nodeCooldownMs: int('LOCKSTEP_REBALANCE_NODE_COOLDOWN_MS', 60_000),
            directiveTtlMs: int('LOCKSTEP_REBALANCE_DIRECTIVE_TTL_MS', 15_000),
          }
        : null,
    },
    security: {
      joinToken: str('LOCKSTEP_JOIN_TOKEN'),
      insecureDev: bool('LOCKSTEP_INSECURE_DEV', false),
      ownerToken: str('LOCKSTEP_OWNER_TOKEN'),
      ownerTokenTtlMs: int('LOCKSTEP_OWNER_TOKEN_TTL_DAYS', 90) * 24 * 3600_000,
      nodeCredentialTtlMs: int('LOCKSTEP_NODE_CREDENTIAL_TTL_DAYS', 30) * 24 * 3600_000,
      allowedOrigins: (process.env.LOCKSTEP_ALLOWED_ORIGINS ?? '')
        .split(',')
        .map((o) => o.trim().replace(/\/+$/, ''))
        .filter(Boolean),
    },
  };
  const config = {
    ...base,
    ...overrides,
    mediasoup: { ...base.mediasoup, ...overrides.mediasoup },
    sessions: { ...base.sessions, ...overrides.sessions },
    security: { ...base.security, ...overrides.security },
    cluster: { ...base.cluster, ...overrides.cluster },
  };
  const tls = config.cluster.etcdTls;
  if (tls && (tls.certPath === undefined) !== (tls.keyPath === undefined)) {
    throw new Error('config: --etcd-cert and --etcd-key (LOCKSTEP_ETCD_CERT/LOCKSTEP_ETCD_KEY) go together');
  }
  if (tls && tls.caPath === undefined) {
    // Without any TLS flag, https:// members are verified against the system's CAs.
    throw new Error('config: etcd client TLS needs --etcd-ca (LOCKSTEP_ETCD_CA), the CA that signed the members');
  }
  const u = config.cluster.upkeep;
  if (u.everyMs < 1000 || u.defragEvery < 1 || u.keepRevisions < 1) {
    throw new Error('config: LOCKSTEP_UPKEEP_EVERY_MS must be >= 1000, the defrag period and kept revisions >= 1');
  }
  const r = config.sessions.defaultReplicationFactor;
  if (r < LIMITS.minReplicationFactor || r > LIMITS.maxReplicationFactor) {
    throw new Error(
      `config: LOCKSTEP_REPLICAS must be ${LIMITS.minReplicationFactor}..${LIMITS.maxReplicationFactor} (a session must survive losing a host), got ${r}`,
    );
  }
  return config;
}

function etcdTlsFromEnv(): EtcdTlsFiles | undefined {
  const files = {
    caPath: str('LOCKSTEP_ETCD_CA'),
    certPath: str('LOCKSTEP_ETCD_CERT'),
    keyPath: str('LOCKSTEP_ETCD_KEY'),
  };
  return Object.values(files).some((f) => f !== undefined) ? files : undefined;
}
