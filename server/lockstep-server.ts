// The Lockstep server: express (viewer page, REST), socket.io signalling for
// viewers and renderer nodes, the mediasoup SFU, the sequencer and its durable
// log. Closing it closes everything it opened, children first.
import { mkdirSync, readFileSync } from 'node:fs';
import { createServer as createHttpServer, type Server as HttpServer } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import express from 'express';
import { Server as IoServer } from 'socket.io';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import { loadServerConfig, type ServerConfig } from './config.js';
import { openDatabase, type SqliteDatabase } from './database.js';
import { NodeGateway } from './node-gateway.js';
import { ReplicaTickets } from './replica-tickets.js';
import { Sequencer } from './sequencer.js';
import { SessionManager } from './session-manager.js';
import { Sfu } from './sfu.js';
import type { InputLog } from './input-log.js';
import { describeStore, openInputLog } from './log/open-input-log.js';
import { openRecordStores, type RecordStores } from './store/open-stores.js';
import { ViewerGateway, type ViewerIdentity } from './viewer-gateway.js';
import { Access } from './access.js';
import { restApi } from './rest-api.js';
import { appRoutes } from './app-routes.js';
import { FileBundleStore } from './file-bundle-store.js';
import { ClipboardRelay } from './clipboard-relay.js';
import { AppFormats } from './app-formats.js';
import { ExportRelay } from './export-relay.js';
import { Metrics } from './metrics.js';
import { operatorRoutes } from './operator-routes.js';
import { ThumbnailStore } from './thumbnails.js';
import { DurabilityWatch } from './durability-watch.js';
import { healthRoute } from './health-route.js';
import { contentSecurityPolicy, originVerdict } from './web-guards.js';
// Types only: the cluster's modules (and etcd3 under them) load in cluster mode alone (see below).
import type { ClusterMember } from './cluster/cluster-member.js';
import { clusterRoutes } from './cluster/cluster-routes.js';
import { ClusterExportPeers } from './cluster/export-peers.js';
import { peerExportRoutes } from './cluster/export-routes.js';
import { PeerOrigins } from './cluster/peer-origins.js';
import { peerCors } from './cluster/peer-cors.js';
import type { ClusterSessionLink } from './cluster/cluster-session-link.js';
import { ClusterSecret } from './cluster/cluster-secret.js';
import { etcdCredentials } from './cluster/etcd-client.js';
import { refuseUnparsedRequest } from './http-parse-refusal.js';

const log = getLogger('server');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export class LockstepServer {
  readonly config: ServerConfig;
  readonly manager: SessionManager;
  readonly sfu: Sfu;
  readonly access: Access;
  readonly #db: SqliteDatabase;
  readonly #records: RecordStores;
  readonly #log: InputLog;
  readonly #sequencer: Sequencer;
  readonly #http: HttpServer;
  readonly #io: IoServer;
  readonly #gateways: { viewers: ViewerGateway; nodes: NodeGateway };
  readonly #durability: DurabilityWatch;
  /** This server's registry entry and leader candidacy; only with --store etcd:. */
  readonly cluster: ClusterMember | null;
  /** Set when this start generated the operator owner token: print it once, then forget it. */
  readonly newOwnerToken: string | undefined;
  #closed = false;

  private constructor(parts: {
    config: ServerConfig;
    manager: SessionManager;
    sfu: Sfu;
    access: Access;
    db: SqliteDatabase;
    records: RecordStores;
    log: InputLog;
    sequencer: Sequencer;
    http: HttpServer;
    io: IoServer;
    gateways: { viewers: ViewerGateway; nodes: NodeGateway };
    durability: DurabilityWatch;
    cluster: ClusterMember | null;
    newOwnerToken: string | undefined;
  }) {
    this.config = parts.config;
    this.manager = parts.manager;
    this.sfu = parts.sfu;
    this.access = parts.access;
    this.#db = parts.db;
    this.#records = parts.records;
    this.#log = parts.log;
    this.#sequencer = parts.sequencer;
    this.#http = parts.http;
    this.#io = parts.io;
    this.#gateways = parts.gateways;
    this.#durability = parts.durability;
    this.cluster = parts.cluster;
    this.newOwnerToken = parts.newOwnerToken;
  }

  static async create(overrides: Partial<ServerConfig> = {}): Promise<LockstepServer> {
    const config = loadServerConfig(overrides);
    // Cluster mode refuses to start without its secret, before it opens anything.
    const clusterSecret =
      config.store.kind === 'etcd'
        ? ClusterSecret.fromConfig(config.cluster.secret, config.security.insecureDev)
        : null;
    mkdirSync(config.dataDir, { recursive: true });
    const db = openDatabase(join(config.dataDir, 'lockstep.sqlite'));
    const etcdTls = config.store.kind === 'etcd' ? etcdCredentials(config.cluster.etcdTls) : undefined;
    const inputLog = await openInputLog(config.store, db, etcdTls);
    // Sessions and credentials live where the log does: with etcd, every server sees the same ones.
    const records = openRecordStores(config.store, db, etcdTls ? { credentials: etcdTls } : {});
    const store = records.sessions;
    const access = new Access(records.tokens, config.security);
    const newOwnerToken = await access.bootstrap();
    const sequencer = new Sequencer({
      log: inputLog,
      contiguous: true,
      sessionExists: (id) => manager.sessions.has(id),
      // A key release to an app that reads none is refused unlogged (protocol/app-inputs.ts).
      wanted: (id, event) => manager.wantsInput(id, event),
    });
    const sfu = await Sfu.create(config.mediasoup);
    const bundles = FileBundleStore.open(config.dataDir);
    const manager = await SessionManager.create({
      bundles,
      config,
      log: inputLog,
      store,
      sequencer,
      sfu,
      health: { staleAfterMs: config.replicaStaleAfterMs, deadAfterMs: config.replicaDeadAfterMs },
    });

    const gateways: { viewers?: ViewerGateway; nodes?: NodeGateway } = {};
    let cluster: ClusterMember | null = null;
    /** The cluster's servers' origins (cluster mode): a viewer page from one of them reaches this one too. */
    const peers = new PeerOrigins(
      () => cluster?.registry.list() ?? [],
      () => cluster?.origins.origins() ?? [],
    );
    const peerOrigins = (): string[] => peers.current();
    const app = express();
    app.disable('x-powered-by');
    app.use((_req, res, next) => {
      // Tokens ride in viewer URLs: never leak them to other origins via Referer.
      res.setHeader('Referrer-Policy', 'no-referrer');
      res.setHeader('X-Content-Type-Options', 'nosniff');
      res.setHeader('X-Frame-Options', 'DENY');
      res.setHeader('Content-Security-Policy', contentSecurityPolicy(peerOrigins()));
      next();
    });
    const durability = new DurabilityWatch(sequencer);
    /** Cluster mode: this server's link to the cluster, once joined (its stalled input feeds are in /healthz). */
    let link: ClusterSessionLink | null = null;
    app.get(
      '/healthz',
      healthRoute({
        durability,
        inputLog,
        store: describeStore(config.store),
        counts: () => ({ sessions: manager.sessions.size, nodes: manager.nodes.size }),
        stalledFeeds: () => link?.stalledFeeds() ?? [],
      }),
    );
    // Viewer/operator extras: session thumbnails, copy out of the app, /metrics.
    const thumbnails = new ThumbnailStore();
    manager.on('sessionclosed', ({ sessionId }) => thumbnails.forget(sessionId));
    const clipboard = new ClipboardRelay(manager);
    const formats = new AppFormats(bundles);
    const exports = new ExportRelay(manager, formats);
    const metrics = new Metrics({
      manager,
      sequencer,
      durability,
      thumbnailCount: () => thumbnails.size,
      stalledFeeds: () => link?.stalledFeeds() ?? [],
    });
    // Before any route (a preflight carries no token): the cluster's pages may call the REST routes they need.
    if (clusterSecret) {
      const viewerTokenValid = async (token: string): Promise<boolean> => {
        const id = await access.authenticateViewer(token);
        return id !== null && Date.now() < id.expiresAt;
      };
      const known = (): string[] => [...config.security.allowedOrigins, ...peerOrigins()];
      app.use(peerCors(known, viewerTokenValid, Boolean(config.tls)));
    }
    app.use(operatorRoutes({ access, manager, metrics, thumbnails }));
    if (clusterSecret)
      app.use(
        '/api',
        clusterRoutes({
          access,
          registry: () => cluster?.registry ?? null,
          rehome: () => cluster?.rehome ?? null,
        }),
      );
    if (clusterSecret) {
      // Signed by another server of the cluster (not a viewer's route): its replicas' files for an export there.
      app.use(peerExportRoutes({ secret: clusterSecret, exports, selfId: () => cluster?.registry.self.id ?? null }));
    }
    app.use('/api/apps', appRoutes({ access, bundles }));
    app.use('/api', restApi({ manager, access, inputLog, sfu, exports, formats, gateways }));
    app.get('/viewer.js', (_req, res) => res.sendFile(join(root, 'viewer/dist/viewer.js')));
    app.get('/viewer.js.map', (_req, res) => res.sendFile(join(root, 'viewer/dist/viewer.js.map')));
    app.use(express.static(join(root, 'viewer/static'), { index: 'index.html' }));

    const http = config.tls
      ? createHttpsServer({ cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) }, app)
      : createHttpServer(app);
    http.on('clientError', refuseUnparsedRequest);
    const io = new IoServer(http, {
      maxHttpBufferSize: LIMITS.maxMessageBytes,
      serveClient: false,
      pingInterval: 5000,
      pingTimeout: 5000,
      allowRequest: (req, done) => {
        const verdict = originVerdict(req.headers.origin, req.headers.host, config, peerOrigins());
        if (verdict !== null) log.warn({ origin: req.headers.origin, reason: verdict }, 'websocket refused');
        done(verdict, verdict === null);
      },
    });
    // Only /viewer and /node serve anyone; the default namespace serves no one.
    io.of('/').use((_socket, next) => next(new Error('forbidden: connect to /viewer or /node')));
    const viewers = new ViewerGateway(io.of('/viewer'), {
      manager,
      sfu,
      authenticate: (token): Promise<ViewerIdentity | null> => access.authenticateViewer(token),
      isActive: (tokenId) => access.isActive(tokenId),
      createShare: (identity, sessionId, role, ttlSeconds) => access.createShare(identity, sessionId, role, ttlSeconds),
      clipboard,
      bundles,
    });
    const nodes = new NodeGateway(io.of('/node'), {
      manager,
      sfu,
      // Cluster mode: any server checks a ticket another issued. Alone: this server's own key, kept in its database.
      tickets: clusterSecret ? new ReplicaTickets(clusterSecret) : ReplicaTickets.local(db),
      authenticate: (token) => access.authenticateNode(token),
      issueCredential: async (nodeId, admission, hostId) =>
        (await access.issueNodeCredential(nodeId, admission, hostId)).issued,
      isActive: (tokenId) => access.isActive(tokenId),
      thumbnails,
      clipboard,
      exports,
      bundles,
    });
    gateways.viewers = viewers;
    gateways.nodes = nodes;

    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    if (config.store.kind === 'etcd' && clusterSecret) {
      const scheme = config.tls ? 'https' : 'http';
      const url = config.cluster.advertise ?? `${scheme}://${config.host}:${(http.address() as AddressInfo).port}`;
      // Loaded here, not at the top: a single server's (re)start does not load etcd3 and grpc-js.
      const [{ ClusterMember, serverIdFromUrl }, { ClusterSessionLink }] = await Promise.all([
        import('./cluster/cluster-member.js'),
        import('./cluster/cluster-session-link.js'),
      ]);
      const serverId = config.cluster.serverId ?? serverIdFromUrl(url);
      try {
        cluster = await ClusterMember.create({
          hosts: config.store.hosts,
          ...(etcdTls ? { credentials: etcdTls } : {}),
          upkeep: config.cluster.upkeep,
          rehomeHoldMs: config.cluster.rehomeHoldMs,
          rebalance: config.cluster.rebalance,
          namespace: 'lockstep/',
          secret: clusterSecret,
          self: {
            id: serverId,
            url,
            sfuCapacity: config.cluster.sfuCapacity,
            startedAt: Date.now(),
          },
        });
        // Sessions, nodes, placement, replica health and the input feed are shared with the cluster.
        const joined = await ClusterSessionLink.create({
          manager,
          member: cluster,
          serverId,
          checkpoints: {
            log: inputLog,
            snapshotEvery: config.snapshotEvery,
            namespace: 'lockstep/',
            secret: clusterSecret,
          },
        });
        link = joined;
        // An export asked here also asks the session's replicas homed on other servers.
        exports.usePeers(new ClusterExportPeers(cluster, clusterSecret, exports.relayTimeoutMs + 1500));
        http.once('close', () => joined.close());
      } catch (err) {
        await cluster?.close();
        http.close();
        throw err;
      }
    }
    const server = new LockstepServer({
      config,
      manager,
      sfu,
      access,
      db,
      records,
      log: inputLog,
      sequencer,
      http,
      io,
      gateways: { viewers, nodes },
      durability,
      cluster,
      newOwnerToken,
    });
    log.info(
      { url: server.url, dataDir: config.dataDir, store: describeStore(config.store) },
      'lockstep server listening',
    );
    return server;
  }

  get port(): number {
    return (this.#http.address() as AddressInfo).port;
  }

  get url(): string {
    const scheme = this.config.tls ? 'https' : 'http';
    return `${scheme}://${this.config.host}:${this.port}`;
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.manager.close();
    this.#durability.close();
    this.#gateways.viewers.close();
    this.#gateways.nodes.close();
    await this.#io.close();
    await this.#sequencer.close();
    await this.cluster?.close();
    this.sfu.close();
    await this.#log.close();
    this.#records.close();
    this.#db.close();
    this.#http.closeAllConnections();
    log.info('server closed');
  }
}
