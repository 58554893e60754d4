// A Lockstep cluster on this machine: N etcd members, N servers over them
// (`--store etcd:…`, `--advertise`, one cluster secret) and renderer nodes
// given every server's URL (each starting with a different one, so homes are
// spread). As root each server and node runs in its own network namespace
// (host-network.ts); otherwise all on loopback. Server i and etcd member i
// stand for one machine: machineDown(i) takes both. `npm run demo:cluster`,
// the cluster chaos run and the cluster tests start the cluster through here;
// close() ends everything it started.
import { mkdtempSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Etcd3 } from 'etcd3';
import type { ReplicaInfo } from '../../protocol/session.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { openNodeEntry } from '../../server/cluster/node-directory.js';
import { EtcdCluster } from '../../server/log/etcd-cluster.js';
import { hostTokenFor, newSecret } from './cluster-secrets.js';
import { HostNetwork, type TestHost } from './host-network.js';
import { removeDir, startNode, startServer, type Proc, type ServerProc } from './launcher.js';
import { getSession } from './session-rest.js';

/** The etcd key prefix the servers use (server/lockstep-server.ts). */
const NAMESPACE = 'lockstep/';

export interface LocalClusterOptions {
  /** Servers, and etcd members (one per server machine): default 3. */
  servers?: number;
  /** Renderer nodes (hosts): default 3. */
  nodes?: number;
  /** Force processes on loopback even as root. */
  loopback?: boolean;
  /** First server port on loopback (then +1 each); default: free ports. In namespaces every server uses this port (default 3000). */
  basePort?: number;
  /** Extra environment for every server / every node. */
  serverEnv?: Record<string, string>;
  nodeEnv?: Record<string, string>;
  log?: (line: string) => void;
}

export interface ClusterServer {
  index: number;
  /** Its id in the cluster registry (LOCKSTEP_SERVER_ID). */
  id: string;
  url: string;
  dataDir: string;
  host: TestHost;
  /** The running process, or null while it is down. */
  proc: ServerProc | null;
  /** Stopped with SIGSTOP (hung, sockets open). */
  paused: boolean;
}

export interface ClusterNode {
  hostId: string;
  /** Its `--server` list: every server, its own first choice first. */
  urls: string[];
  host: TestHost;
  proc: Proc | null;
}

async function freePort(host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, host, () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

export class LocalCluster {
  readonly net: HostNetwork;
  readonly etcd: EtcdCluster;
  readonly servers: ClusterServer[];
  readonly nodes: ClusterNode[];
  /** What the servers were given as --store. */
  readonly store: string;
  /** The cluster secret every server shares (LOCKSTEP_CLUSTER_SECRET). */
  readonly secret: string;
  readonly #serverEnv: Record<string, string>;
  readonly #nodeEnv: Record<string, string>;
  readonly #client: Etcd3;
  readonly #say: (line: string) => void;
  #closed = false;

  private constructor(parts: {
    net: HostNetwork;
    etcd: EtcdCluster;
    servers: ClusterServer[];
    nodes: ClusterNode[];
    secret: string;
    serverEnv: Record<string, string>;
    nodeEnv: Record<string, string>;
    say: (line: string) => void;
  }) {
    this.net = parts.net;
    this.etcd = parts.etcd;
    this.servers = parts.servers;
    this.nodes = parts.nodes;
    this.secret = parts.secret;
    this.store = `etcd:${parts.etcd.clientUrls.join(',')}`;
    this.#serverEnv = parts.serverEnv;
    this.#nodeEnv = parts.nodeEnv;
    this.#say = parts.say;
    this.#client = openEtcdClient({ hosts: parts.etcd.clientUrls, callTimeoutMs: 1000 });
  }

  /** Starts etcd, then every server, then every node; on failure stops what it started. */
  static async create(opts: LocalClusterOptions = {}): Promise<LocalCluster> {
    const say = opts.log ?? (() => undefined);
    const n = opts.servers ?? 3;
    const net = HostNetwork.create({ loopback: opts.loopback, log: say });
    let etcd: EtcdCluster | null = null;
    let cluster: LocalCluster | null = null;
    try {
      // etcd listens where every namespace can reach it: the bridge (or loopback).
      etcd = await EtcdCluster.create({ members: n, host: net.serverIp });
      say(`etcd: ${n} members at ${etcd.clientUrls.join(', ')}`);
      const servers: ClusterServer[] = [];
      for (let i = 0; i < n; i++) {
        const host = net.addHost(`server-${i + 1}`);
        const port =
          net.mode === 'netns'
            ? (opts.basePort ?? 3000)
            : opts.basePort !== undefined
              ? opts.basePort + i
              : await freePort(host.ip);
        servers.push({
          index: i,
          id: `server-${i + 1}`,
          url: `http://${host.ip}:${port}`,
          dataDir: mkdtempSync(join(tmpdir(), `lockstep-${host.hostId}-`)),
          host,
          proc: null,
          paused: false,
        });
      }
      const nodes: ClusterNode[] = [];
      for (let i = 0; i < (opts.nodes ?? 3); i++) {
        const urls = servers.map((_, k) => servers[(i + k) % n]?.url ?? '');
        nodes.push({ hostId: `node-${i + 1}`, urls, host: net.addHost(`node-${i + 1}`), proc: null });
      }
      cluster = new LocalCluster({
        net,
        etcd,
        servers,
        nodes,
        secret: newSecret('lcs'),
        serverEnv: opts.serverEnv ?? {},
        nodeEnv: opts.nodeEnv ?? {},
        say,
      });
      for (const s of servers) await cluster.startServer(s.index);
      for (const node of nodes) await cluster.startNode(node.hostId);
      return cluster;
    } catch (err) {
      if (cluster) await cluster.close();
      else {
        await etcd?.close();
        net.close();
      }
      throw err;
    }
  }

  get mode(): 'netns' | 'loopback' {
    return this.net.mode;
  }

  server(i: number): ClusterServer {
    const s = this.servers[i];
    if (!s) throw new Error(`no server ${i} (cluster of ${this.servers.length})`);
    return s;
  }

  serverById(id: string): ClusterServer | undefined {
    return this.servers.find((s) => s.id === id);
  }

  node(hostId: string): ClusterNode {
    const n = this.nodes.find((x) => x.hostId === hostId);
    if (!n) throw new Error(`no node ${hostId}`);
    return n;
  }

  /** Servers running and not paused. */
  liveServers(): ClusterServer[] {
    return this.servers.filter((s) => s.proc !== null && !s.paused);
  }

  /** Starts (or restarts, same port, data dir and namespace) server i. */
  async startServer(i: number): Promise<ServerProc> {
    const s = this.server(i);
    if (s.proc) return s.proc;
    const port = Number(new URL(s.url).port);
    const others = this.servers.filter((o) => o !== s).map((o) => o.url);
    // Server i gets its own slice of the RTP port range (they share one address on loopback).
    const rtcMin = 40000 + i * 1000;
    const proc = await startServer({
      name: s.id,
      dataDir: s.dataDir,
      port,
      ...(s.host.netns ? { netns: s.host.netns } : {}),
      env: {
        LOCKSTEP_STORE: this.store,
        LOCKSTEP_CLUSTER_SECRET: this.secret,
        LOCKSTEP_SERVER_ID: s.id,
        LOCKSTEP_HOST: s.host.ip,
        LOCKSTEP_LISTEN_IP: s.host.ip,
        LOCKSTEP_ADVERTISE: s.url,
        // A viewer that talks to every server opens websockets to the others from this one's page.
        LOCKSTEP_ALLOWED_ORIGINS: others.join(','),
        LOCKSTEP_RTC_MIN_PORT: String(rtcMin),
        LOCKSTEP_RTC_MAX_PORT: String(rtcMin + 999),
        ...this.#serverEnv,
      },
    });
    s.proc = proc;
    s.paused = false;
    void proc.exited.then(() => {
      if (s.proc === proc) s.proc = null;
    });
    this.#say(`${s.id} at ${s.url} (pid ${proc.child.pid ?? '?'})`);
    return proc;
  }

  /** Signals server i (default SIGKILL) and waits for it to exit. */
  async killServer(i: number, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const s = this.server(i);
    const proc = s.proc;
    if (!proc) return;
    if (s.paused) proc.child.kill('SIGCONT');
    await proc.kill(signal);
    s.proc = null;
    s.paused = false;
  }

  /** SIGSTOP: the server hangs with its sockets open. */
  pauseServer(i: number): void {
    const s = this.server(i);
    if (!s.proc) return;
    s.proc.child.kill('SIGSTOP');
    s.paused = true;
  }

  resumeServer(i: number): void {
    const s = this.server(i);
    if (!s.proc) return;
    s.proc.child.kill('SIGCONT');
    s.paused = false;
  }

  /** Pulls server i's cable (its namespace's link down); false on loopback. */
  partitionServer(i: number): boolean {
    return this.net.partition(this.server(i).host.hostId);
  }

  healServer(i: number): boolean {
    return this.net.heal(this.server(i).host.hostId);
  }

  /** Machine i loses power: its server and its etcd member are SIGKILLed. */
  async machineDown(i: number): Promise<void> {
    await Promise.all([this.killServer(i), i < this.etcd.size ? this.etcd.kill(i) : Promise.resolve()]);
  }

  /** Machine i boots again: its etcd member rejoins, then its server starts. */
  async machineUp(i: number): Promise<void> {
    if (i < this.etcd.size) await this.etcd.restart(i);
    await this.startServer(i);
  }

  /** Starts (or restarts) a renderer node with every server's URL, its own first choice first. */
  async startNode(hostId: string): Promise<Proc> {
    const n = this.node(hostId);
    if (n.proc) return n.proc;
    // Join tokens live in etcd: any live server issues one that every server accepts.
    const issuer = this.liveServers()[0];
    if (!issuer) throw new Error('no live server to admit a node');
    const token = await hostTokenFor(issuer.url, hostId);
    const proc = await startNode({
      url: n.urls[0] ?? issuer.url,
      hostId,
      ...(n.host.netns ? { netns: n.host.netns } : {}),
      env: { LOCKSTEP_SERVER_URL: n.urls.join(','), LOCKSTEP_JOIN_TOKEN: token, ...this.#nodeEnv },
    });
    n.proc = proc;
    void proc.exited.then(() => {
      if (n.proc === proc) n.proc = null;
    });
    this.#say(`${hostId} (pid ${proc.child.pid ?? '?'}) with --server ${n.urls.join(',')}`);
    return proc;
  }

  async killNode(hostId: string, signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const n = this.node(hostId);
    await n.proc?.kill(signal);
    n.proc = null;
  }

  /** The Lockstep leader's server id as etcd holds it (null: none right now). */
  async leaderId(): Promise<string | null> {
    return this.#client.get(`${NAMESPACE}cluster/leader`).string();
  }

  /** Host id → id of the server the node is homed on, from the cluster's signed node directory. */
  async nodeHomes(): Promise<Map<string, string>> {
    const prefix = `${NAMESPACE}cluster/nodes/`;
    const secret = ClusterSecret.fromConfig(this.secret, false);
    const raw = await this.#client.getAll().prefix(prefix).strings();
    const homes = new Map<string, string>();
    for (const [key, value] of Object.entries(raw)) {
      const info = openNodeEntry(secret, prefix, key, value);
      if (info) homes.set(info.hostId, info.homeServerId);
    }
    return homes;
  }

  /**
   * Every live server's view of a session's replicas, one entry per replica
   * (keyed by node too: until the leader places for the whole cluster, each
   * server numbers its own), and the highest head seq any of them reports.
   */
  async sessionReplicas(sessionId: string): Promise<{ head: number; replicas: ReplicaInfo[] }> {
    const byId = new Map<string, ReplicaInfo>();
    let head = 0;
    for (const s of this.liveServers()) {
      const info = await getSession(s.url, sessionId).catch(() => undefined);
      if (!info) continue;
      head = Math.max(head, info.headSeq);
      for (const r of info.replicas) {
        const key = `${r.nodeId}/${r.replicaId}`;
        const seen = byId.get(key);
        if (!seen || (r.state === 'live' && seen.state !== 'live')) byId.set(key, r);
      }
    }
    return { head, replicas: [...byId.values()] };
  }

  /**
   * Live replicas on `hosts` distinct hosts (default: every running node), all
   * at `head` with one state hash: their hashes. Otherwise throws what it saw
   * (waitFor names the last one).
   */
  async convergedAt(sessionId: string, head: number, hosts?: number): Promise<string[]> {
    const { replicas } = await this.sessionReplicas(sessionId);
    const live = replicas.filter((r) => r.state === 'live');
    const distinct = new Set(live.map((r) => r.hostId));
    const agree = live.every(
      (r) => r.appliedSeq === head && r.stateHash !== null && r.stateHash === live[0]?.stateHash,
    );
    const want = hosts ?? this.nodes.filter((n) => n.proc !== null).length;
    if (distinct.size < want || !agree) {
      const seen = replicas.map((r) => `${r.hostId}/${r.replicaId} ${r.state} @${r.appliedSeq} ${r.stateHash ?? '-'}`);
      throw new Error(`not converged at ${head}: ${seen.join('; ')}`);
    }
    return live.map((r) => r.stateHash ?? '');
  }

  /** Stops every node, server and etcd member, removes data dirs and namespaces. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await Promise.all(this.nodes.map((n) => this.killNode(n.hostId)));
    await Promise.all(this.servers.map((s) => this.killServer(s.index)));
    this.#client.close();
    await this.etcd.close();
    for (const s of this.servers) removeDir(s.dataDir);
    this.net.close();
  }
}
