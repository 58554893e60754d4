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
import { Sequencer } from './sequencer.js';
import { SessionManager } from './session-manager.js';
import { SessionStore } from './session-store.js';
import { Sfu } from './sfu.js';
import { SqliteInputLog } from './sqlite-input-log.js';
import { ViewerGateway, type ViewerIdentity } from './viewer-gateway.js';
import { Access } from './access.js';

const log = getLogger('server');
const root = join(dirname(fileURLToPath(import.meta.url)), '..');

export class LockstepServer {
  readonly config: ServerConfig;
  readonly manager: SessionManager;
  readonly sfu: Sfu;
  readonly access: Access;
  readonly #db: SqliteDatabase;
  readonly #log: SqliteInputLog;
  readonly #sequencer: Sequencer;
  readonly #http: HttpServer;
  readonly #io: IoServer;
  #closed = false;

  private constructor(parts: {
    config: ServerConfig;
    manager: SessionManager;
    sfu: Sfu;
    access: Access;
    db: SqliteDatabase;
    log: SqliteInputLog;
    sequencer: Sequencer;
    http: HttpServer;
    io: IoServer;
  }) {
    this.config = parts.config;
    this.manager = parts.manager;
    this.sfu = parts.sfu;
    this.access = parts.access;
    this.#db = parts.db;
    this.#log = parts.log;
    this.#sequencer = parts.sequencer;
    this.#http = parts.http;
    this.#io = parts.io;
  }

  static async create(overrides: Partial<ServerConfig> = {}): Promise<LockstepServer> {
    const config = loadServerConfig(overrides);
    mkdirSync(config.dataDir, { recursive: true });
    const db = openDatabase(join(config.dataDir, 'lockstep.sqlite'));
    const inputLog = SqliteInputLog.open(db);
    const store = SessionStore.open(db);
    const access = Access.fromEnv();
    const sequencer = new Sequencer({
      log: inputLog,
      contiguous: true,
      sessionExists: (id) => manager.sessions.has(id),
    });
    const sfu = await Sfu.create(config.mediasoup);
    const manager = await SessionManager.create({
      config,
      log: inputLog,
      store,
      sequencer,
      sfu,
      health: { staleAfterMs: config.replicaStaleAfterMs, deadAfterMs: config.replicaDeadAfterMs },
    });

    const app = express();
    app.disable('x-powered-by');
    app.use(express.json({ limit: '64kb' }));
    app.get('/healthz', (_req, res) => {
      res.json({ ok: true, sessions: manager.sessions.size, nodes: manager.nodes.size });
    });
    app.get('/api/sessions', (_req, res) => {
      res.json({ sessions: manager.list() });
    });
    app.get('/api/sessions/:id', (req, res) => {
      const session = manager.sessions.get(req.params.id);
      if (!session) res.status(404).json({ error: { code: 'not-found', message: `no session ${req.params.id}` } });
      else res.json({ session: session.info(Date.now()) });
    });
    // Media statistics per replica producer: what the SFU actually receives.
    app.get('/api/sessions/:id/stats', (req, res) => {
      const session = manager.sessions.get(req.params.id);
      if (!session) {
        res.status(404).json({ error: { code: 'not-found', message: `no session ${req.params.id}` } });
        return;
      }
      Promise.all(
        [...session.replicas.values()].map(async (r) => ({
          replicaId: r.replicaId,
          hostId: r.hostId,
          state: r.state,
          producer: r.producer && !r.producer.closed ? await r.producer.getStats() : null,
        })),
      ).then(
        (replicas) => res.json({ replicas }),
        (err: unknown) => res.status(500).json({ error: { code: 'internal', message: String(err) } }),
      );
    });
    // The durable input log (used to rebuild a reference state anywhere).
    app.get('/api/sessions/:id/log', (req, res) => {
      const session = manager.sessions.get(req.params.id);
      const from = Number(req.query.from ?? 1);
      const to = Number(req.query.to ?? Number.MAX_SAFE_INTEGER);
      if (!session) {
        res.status(404).json({ error: { code: 'not-found', message: `no session ${req.params.id}` } });
      } else if (!Number.isInteger(from) || !Number.isInteger(to) || from < 1 || to < from) {
        res
          .status(400)
          .json({ error: { code: 'bad-request', message: 'from/to must be integers with 1 <= from <= to' } });
      } else {
        res.json({ headSeq: session.headSeq, inputs: inputLog.read(session.id, from, to, LIMITS.maxFetchBatch) });
      }
    });
    // The latest stored snapshot (state transfer source), base64.
    app.get('/api/sessions/:id/snapshot', (req, res) => {
      const session = manager.sessions.get(req.params.id);
      const snap = session ? inputLog.latestSnapshot(session.id) : null;
      if (!session) res.status(404).json({ error: { code: 'not-found', message: `no session ${req.params.id}` } });
      else res.json({ snapshot: snap && { seq: snap.seq, stateHash: snap.stateHash, data: snap.data.toString('base64') } });
    });
    app.get('/viewer.js', (_req, res) => res.sendFile(join(root, 'viewer/dist/viewer.js')));
    app.get('/viewer.js.map', (_req, res) => res.sendFile(join(root, 'viewer/dist/viewer.js.map')));
    app.use(express.static(join(root, 'viewer/static'), { index: 'index.html' }));

    const http = config.tls
      ? createHttpsServer({ cert: readFileSync(config.tls.certPath), key: readFileSync(config.tls.keyPath) }, app)
      : createHttpServer(app);
    const io = new IoServer(http, {
      maxHttpBufferSize: LIMITS.maxMessageBytes,
      serveClient: false,
      pingInterval: 5000,
      pingTimeout: 5000,
    });
    new ViewerGateway(io.of('/viewer'), {
      manager,
      sfu,
      authenticate: (token): ViewerIdentity | null => access.authenticateViewer(token),
    });
    new NodeGateway(io.of('/node'), {
      manager,
      sfu,
      authorize: (token) => access.authorizeNode(token),
    });

    await new Promise<void>((resolve, reject) => {
      http.once('error', reject);
      http.listen(config.port, config.host, () => {
        http.off('error', reject);
        resolve();
      });
    });
    const server = new LockstepServer({ config, manager, sfu, access, db, log: inputLog, sequencer, http, io });
    log.info({ url: server.url, dataDir: config.dataDir }, 'lockstep server listening');
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
    await this.#io.close();
    await this.#sequencer.close();
    this.sfu.close();
    this.#log.close();
    this.#db.close();
    this.#http.closeAllConnections();
    log.info('server closed');
  }
}
