// The session manager: the adapter around the session core. It feeds the core
// what happens (nodes, statuses, sequenced inputs, log answers, the clock) and
// carries out what the core decides: notifications through each node's port,
// snapshot and truncation writes through the log (fed back as acknowledged or
// failed), replica media through ReplicaMedia. The rules live in
// server/session-core/; transport stays at the edges (the gateways).
import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import { wantsInput } from '../protocol/app-inputs.js';
import type { InputEvent, SequencedInput } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import type { SelectionGeometry } from '../protocol/selection.js';
import type { AppFailure, RefusalCode } from '../protocol/replica-failure.js';
import type { AppRef, SessionInfo } from '../protocol/session.js';
import type { AdoptedReplica, HeldReplica, InputAck, NodeNotification } from '../protocol/signalling.js';
import { TypedEmitter } from '../protocol/typed-emitter.js';
import { appCatalog } from '../render/app-catalog.js';
import { AppFormats } from './app-formats.js';
import type { ServerConfig } from './config.js';
import { AppFailedError, BadRequestError, LockstepError, NotFoundError, QuotaExceededError } from './errors.js';
import type { InputLog } from './input-log.js';
import { ConnectedNodes } from './connected-nodes.js';
import type { NodePort, RegisteredNode } from './node-port.js';
import { ReplicaMedia } from './replica-media.js';
import type { HealthThresholds, ReplicaStatusReport } from './session-core/replica-health.js';
import {
  SessionCore,
  type DurableSession,
  type RemovalCause,
  type SessionCoreCommand,
  type SessionCoreEvent,
} from './session-core/session-core.js';
import type { ReplicaRecord, Session } from './session-core/session.js';
import type { Sequencer } from './sequencer.js';
import type { SessionBatch } from './sequencer-types.js';
import type { SessionRecord, SessionStore } from './session-store.js';
import { StandbyInputs } from './standby-inputs.js';
import type { Sfu } from './sfu.js';
import type { BundleStore } from './bundle-store.js';
import { parseAppSpec } from '../protocol/bundle.js';

export type { RemovalCause } from './session-core/session-core.js';

const log = getLogger('session-manager');

/** How long a snapshot checkpoint may wait for a quorum of answers before a new one is asked. */
const SNAPSHOT_CHECKPOINT_TIMEOUT_MS = 10_000;
/** A standby holding this many inputs gets them at once (well under the notification's bound). */
const STANDBY_MAX_HELD = Math.min(500, LIMITS.maxFetchBatch);

/**
 * What the log still holds after a restart: truncation trails the latest
 * snapshot by one, unless this database was compacted up to the latest one
 * (then there is no fallback to the one before).
 */
async function compactedThrough(log: InputLog, sessionId: string, latestSeq: number, headSeq: number): Promise<number> {
  const previous = await log.snapshotBefore(sessionId, latestSeq);
  if (!previous) return (await log.read(sessionId, 1, 1, 1)).length > 0 || headSeq === 0 ? 0 : latestSeq;
  const tailIntact =
    previous.seq >= headSeq || (await log.read(sessionId, previous.seq + 1, previous.seq + 1, 1)).length > 0;
  return tailIntact ? previous.seq : latestSeq;
}

/** The durable facts of one stored session: what a core needs to take it over. */
async function durableSession(log: InputLog, meta: DurableSession['meta']): Promise<DurableSession> {
  const headSeq = await log.headSeq(meta.sessionId);
  const snap = await log.latestSnapshot(meta.sessionId);
  if (!snap) return { meta, headSeq, snapshot: null, previousSnapshot: null, compactedThrough: 0 };
  const previous = await log.snapshotBefore(meta.sessionId, snap.seq);
  return {
    meta,
    headSeq,
    snapshot: { seq: snap.seq, stateHash: snap.stateHash },
    previousSnapshot: previous ? { seq: previous.seq, stateHash: previous.stateHash } : null,
    compactedThrough: await compactedThrough(log, meta.sessionId, snap.seq, headSeq),
  };
}

/** What emits sequenced inputs in order: the Sequencer, or the cluster's InputFeed. */
export interface InputSource {
  on(event: 'sequenced', listener: (batches: SessionBatch[]) => void): unknown;
  off(event: 'sequenced', listener: (batches: SessionBatch[]) => void): unknown;
}

function metaOf(row: SessionRecord, formats: AppFormats): DurableSession['meta'] {
  return {
    sessionId: row.id,
    inputs: formats.inputsOf(row.app),
    owner: row.owner,
    app: row.app,
    replicationFactor: row.replicationFactor,
    width: row.width,
    height: row.height,
    createdAt: row.createdAt,
  };
}

export interface SessionManagerEvents {
  /** Anything a viewer of this session should see changed. */
  sessionupdate: [SessionInfo];
  /** A session is open here now (created here, or seen created elsewhere): its head at that moment. */
  sessionopened: [{ sessionId: string; headSeq: number }];
  sessionclosed: [{ sessionId: string; reason: string }];
  /** A replica's selection geometry changed (touch handles; see selection-relay.ts). */
  selection: [{ sessionId: string; replicaId: string; seq: number; selection: SelectionGeometry | null }];
  /** A replica stopped being offered (closed, dead, quarantined). */
  replicaremoved: [{ sessionId: string; replicaId: string; cause: RemovalCause; reason: string }];
  /** A replica's state hash disagreed with the majority at the same seq. */
  divergence: [
    { sessionId: string; replicaId: string; hostId: string; seq: number; hash: string; majorityHash: string },
  ];
  snapshotstored: [{ sessionId: string; seq: number; bytes: number; truncated: number }];
  /** Cluster mode: a local replica's verified answer to the leader's checkpoint (relayed to it through etcd). */
  checkpointanswer: [
    { sessionId: string; replicaId: string; hostId: string; seq: number; stateHash: string; data: Buffer },
  ];
  /** A connected node joined, left, or its load or replicas changed (what the cluster's node directory publishes). */
  nodeschanged: [];
}

export interface SessionManagerDeps {
  config: ServerConfig;
  log: InputLog;
  store: SessionStore;
  sequencer: Sequencer;
  sfu: Sfu;
  health?: Partial<HealthThresholds>;
  now?: () => number;
  /** Published app bundles: sessions may pin one (by hash or name[@version]). */
  bundles?: BundleStore;
}

export interface CreateSessionRequest {
  owner: string;
  app: string;
  replicationFactor?: number | undefined;
  width?: number | undefined;
  height?: number | undefined;
  /** A chosen id (an import's, derived from the client's import id); a fresh random one by default. */
  id?: string | undefined;
}

export class SessionManager extends TypedEmitter<SessionManagerEvents> {
  readonly #core: SessionCore;
  readonly #ports = new Map<string, NodePort>();
  readonly #media = new ReplicaMedia();
  /** Connected nodes: the core's record of each joined with its port. */
  readonly nodes: ConnectedNodes;
  readonly #deps: SessionManagerDeps;
  readonly #now: () => number;
  readonly #catalog: Map<string, AppRef>;
  /** What each app's manifest says (the inputs its sessions read). */
  readonly #formats: AppFormats;
  #healthTimer: NodeJS.Timeout | undefined;
  /** Where fanned-out inputs come from: this server's sequencer, or (cluster mode) the input feed. */
  #inputSource: InputSource;
  readonly #onSequenced = (batches: readonly SessionBatch[]): void => {
    for (const b of batches) this.#fanOut(b.sessionId, b.inputs);
  };
  /** Inputs for replicas nobody watches, sent in batches (warm standbys cost per message). */
  readonly #standbyInputs: StandbyInputs;
  /** A health tick is still carrying out its commands (a snapshot drop): the next one waits its turn. */
  #ticking = false;
  #closed = false;

  private constructor(deps: SessionManagerDeps) {
    super();
    this.#deps = deps;
    this.#inputSource = deps.sequencer;
    this.#now = deps.now ?? Date.now;
    this.#catalog = new Map(appCatalog().map((a) => [a.name, a]));
    this.#formats = new AppFormats(deps.bundles);
    this.#core = new SessionCore({
      snapshotEvery: deps.config.snapshotEvery,
      nodeDeadAfterMs: deps.config.nodeDeadAfterMs,
      checkpointTimeoutMs: SNAPSHOT_CHECKPOINT_TIMEOUT_MS,
      adoptionWindowMs: deps.config.adoptionWindowMs,
      // Cluster mode: the leader places over the whole cluster; this server runs what its table names here.
      placement: deps.config.store.kind === 'etcd' ? 'table' : 'local',
      ...(deps.health ? { health: deps.health } : {}),
    });
    this.nodes = new ConnectedNodes(this.#core.nodes, this.#ports);
    this.#standbyInputs = new StandbyInputs({
      holdMs: deps.config.standbyInputHoldMs,
      maxHeld: STANDBY_MAX_HELD,
      send: (nodeId, replicaId, inputs) => this.#notify(nodeId, { type: 'inputs', replicaId, inputs }),
    });
    deps.sequencer.on('sequenced', this.#onSequenced);
  }

  /** Loads open sessions from the store (they come back after a server restart). */
  static async create(deps: SessionManagerDeps): Promise<SessionManager> {
    const manager = new SessionManager(deps);
    for (const row of await deps.store.list()) {
      const meta = metaOf(row, manager.#formats);
      // Restored: its nodes may come back with the replicas they kept (the core waits adoptionWindowMs).
      manager.#feed({ type: 'session-opened', session: await durableSession(deps.log, meta), restored: true });
    }
    manager.#healthTimer = setInterval(() => manager.#healthTick(), deps.config.healthIntervalMs);
    log.info({ sessions: manager.sessions.size }, 'session manager ready');
    return manager;
  }

  /** The sessions as the core holds them (read-only: change goes through events). */
  get sessions(): ReadonlyMap<string, Session> {
    return this.#core.sessions;
  }

  apps(): AppRef[] {
    return [...this.#catalog.values()];
  }

  get(sessionId: string): Session {
    return this.#core.session(sessionId);
  }

  list(): SessionInfo[] {
    const now = this.#now();
    return [...this.sessions.values()].map((s) => s.info(now));
  }

  info(sessionId: string): SessionInfo {
    return this.#core.info(sessionId, this.#now());
  }

  /** The replica's open display channel (tile display) in this server's SFU, if it has one. */
  dataProducerOf(replicaId: string): types.DataProducer | null {
    return this.#media.dataProducer(replicaId);
  }

  attachDataProducer(nodeId: string, replicaId: string, dataProducer: types.DataProducer): void {
    this.ownedReplica(nodeId, replicaId);
    this.#media.attachDataProducer(replicaId, dataProducer);
  }

  /** The replica's open producer in this server's SFU, if it has one. */
  producerOf(replicaId: string): types.Producer | null {
    return this.#media.producer(replicaId);
  }

  /** A built-in app by name, else a published one (name → its highest version, name@version, or hash). */
  #resolveApp(spec: string): AppRef {
    const builtin = this.#catalog.get(spec);
    if (builtin) return builtin;
    const s = parseAppSpec(spec);
    const bundles = this.#deps.bundles;
    const found =
      s.kind === 'hash' ? bundles?.get(s.hash) : bundles?.resolve(s.name, s.kind === 'version' ? s.version : undefined);
    if (!found) throw new NotFoundError(`no app "${spec}"`, { app: spec, known: [...this.#catalog.keys()] });
    return { name: found.name, hash: found.hash };
  }

  async createSession(req: CreateSessionRequest): Promise<SessionInfo> {
    // The hash is pinned here, once: every replica of this session runs exactly this version.
    const app = this.#resolveApp(req.app);
    const owned = [...this.sessions.values()].filter((s) => s.meta.owner === req.owner).length;
    if (owned >= LIMITS.maxSessionsPerOwner) {
      throw new QuotaExceededError(`owner already has ${owned} sessions (limit ${LIMITS.maxSessionsPerOwner})`, {
        owner: req.owner,
      });
    }
    const d = this.#deps.config.sessions;
    const row = await this.#deps.store.create({
      id: req.id ?? `s-${randomBytes(6).toString('hex')}`,
      owner: req.owner,
      app,
      replicationFactor: req.replicationFactor ?? d.defaultReplicationFactor,
      width: req.width ?? d.defaultWidth,
      height: req.height ?? d.defaultHeight,
    });
    const meta = { ...metaOf(row, this.#formats), app };
    log.info({ sessionId: row.id, app, r: row.replicationFactor }, 'session created');
    // In cluster mode this server's own session watch may have opened it already (openStoredSession).
    if (!this.sessions.has(row.id)) {
      this.#feed({
        type: 'session-opened',
        session: { meta, headSeq: 0, snapshot: null, previousSnapshot: null, compactedThrough: 0 },
      });
      this.emit('sessionopened', { sessionId: row.id, headSeq: 0 });
    }
    return this.info(row.id);
  }

  async closeSession(sessionId: string, reason = 'closed by owner'): Promise<void> {
    this.get(sessionId);
    // Durably closed first: when the store cannot write, the session stays open and the caller hears why.
    await this.#deps.store.close(sessionId);
    // Cluster mode: this server's session watch may have seen it go (forgetSession) while the write returned.
    if (!this.sessions.has(sessionId)) return;
    await this.#apply(this.#core.handle({ type: 'session-closed', sessionId, reason }, this.#now()));
  }

  /**
   * A session another server created (cluster mode: the session watch saw it):
   * opened here from the log's durable facts, with no store write. False when
   * it is known here already (created here, or seen before).
   */
  async openStoredSession(row: SessionRecord): Promise<boolean> {
    if (this.sessions.has(row.id) || row.closedAt !== null) return false;
    const session = await durableSession(this.#deps.log, metaOf(row, this.#formats));
    if (this.#closed || this.sessions.has(row.id)) return false;
    log.info({ sessionId: row.id }, 'session opened elsewhere');
    this.#feed({ type: 'session-opened', session });
    this.emit('sessionopened', { sessionId: row.id, headSeq: session.headSeq });
    return true;
  }

  /** A session another server closed durably (the session watch saw it go): forgotten here too. */
  async forgetSession(sessionId: string, reason = 'closed on another server'): Promise<void> {
    if (!this.sessions.has(sessionId)) return;
    await this.#apply(this.#core.handle({ type: 'session-closed', sessionId, reason }, this.#now()));
  }

  /**
   * Cluster mode: inputs are fanned out from a feed that follows the shared log
   * (inputs any server appended, in order) instead of this server's sequencer,
   * which still appends. The caller starts the feed after each session's head.
   */
  fanOutFrom(source: InputSource): void {
    this.#inputSource.off('sequenced', this.#onSequenced);
    this.#inputSource = source;
    source.on('sequenced', this.#onSequenced);
  }

  /**
   * Cluster mode: the leader's placement table entry for a session (null: none).
   * The core runs the replicas it names on nodes connected here and no others,
   * and takes the session's failed state from it (a cluster-wide quorum).
   */
  applyPlacement(
    sessionId: string,
    replicas: ReadonlyArray<{ replicaId: string; nodeId: string }> | null,
    appFailure: AppFailure | null = null,
  ): void {
    this.#feed({ type: 'placement', sessionId, replicas, appFailure });
    this.emit('nodeschanged');
  }

  // ------------------------------------------------------------------ inputs

  /**
   * Whether the session's app reads this input (protocol/app-inputs.ts): the
   * sequencer refuses what it does not, unlogged. An unknown session wants
   * everything (the sequencer's own check refuses it as not found).
   */
  wantsInput(sessionId: string, event: InputEvent): boolean {
    return wantsInput(this.sessions.get(sessionId)?.meta.inputs, event);
  }

  async submitInput(sessionId: string, clientId: string, clientSeq: number, event: InputEvent): Promise<InputAck> {
    const failure = this.get(sessionId).appFailure;
    if (failure) {
      // Nothing after it could be applied: refused before it is logged, so nothing unwritten is acknowledged.
      throw new AppFailedError(`the app failed at input ${failure.seq}: ${failure.reason}`, {
        sessionId,
        refusal: 'app-failed',
        ...failure,
      });
    }
    const res = await this.#deps.sequencer.submit({ sessionId, clientId, clientSeq, event });
    return { seq: res.input.seq, duplicate: res.duplicate };
  }

  /** Asks every replica of the session for a fresh status (applied seq + hash), e.g. when a viewer joins. */
  requestStatus(sessionId: string): void {
    this.#feed({ type: 'status-wanted', sessionId });
  }

  lastClientSeq(sessionId: string, clientId: string): Promise<number> {
    return this.#deps.log.lastClientSeq(sessionId, clientId);
  }

  /**
   * A viewer now watches this replica's stream: what is held for it goes out
   * first, so the frame it renders on being told shows the current state.
   */
  replicaWatched(replicaId: string): void {
    this.#standbyInputs.flush(replicaId);
  }

  /** A viewer watches this producer's stream here (a resumed consumer at this SFU). */
  isWatched(producerId: string | null): boolean {
    return producerId !== null && this.#deps.sfu.watchers.isWatched(producerId);
  }

  #fanOut(sessionId: string, inputs: SequencedInput[]): void {
    const session = this.sessions.get(sessionId);
    if (!session || inputs.length === 0) return;
    const watched = new Set(
      session
        .activeReplicas()
        .filter((r) => this.isWatched(r.producerId))
        .map((r) => r.replicaId),
    );
    this.#feed({ type: 'inputs-sequenced', sessionId, inputs, watched });
  }

  // ------------------------------------------------------------------ nodes

  /** `held`: replicas the node kept running from before; returns those the core adopted (the node closes the rest). */
  registerNode(node: RegisteredNode, held: readonly HeldReplica[] = []): AdoptedReplica[] {
    const { notify, disconnect, ...record } = node;
    const previous = this.#ports.get(node.nodeId);
    this.#ports.set(node.nodeId, { notify, disconnect });
    // The node came back on a new connection before the old one was seen to drop (a short partition): the old
    // one is cut now, so its late close cannot take the new registration down with it.
    if (previous && previous.disconnect !== disconnect)
      previous.disconnect('replaced by a newer connection of the node');
    const commands = this.#core.handle({ type: 'node-joined', node: record, held }, this.#now());
    this.#run(commands, 'node-joined');
    this.emit('nodeschanged');
    const answer = commands.find((c) => c.type === 'replicas-adopted');
    return answer?.type === 'replicas-adopted' ? answer.adopted : [];
  }

  /**
   * Before held replicas are judged against the head: another server may have
   * sequenced inputs this one has not seen (cluster mode); the log knows.
   */
  async syncHeads(held: readonly HeldReplica[]): Promise<void> {
    for (const claim of held) {
      const session = this.sessions.get(claim.sessionId);
      if (session && claim.appliedSeq > session.headSeq) {
        this.#feed({ type: 'head-seen', sessionId: session.id, headSeq: await this.#deps.log.headSeq(session.id) });
      }
    }
  }

  /**
   * Cluster mode: the shared log was truncated past what this server fanned
   * out (its feed fell behind while another server compacted). Reads the
   * log's durable facts and hands them to the core; returns them (the feed
   * resumes from their snapshot), or null when the session is not open here.
   */
  resyncFromLog(sessionId: string): Promise<DurableSession | null> {
    return this.#readDurable(sessionId, (session) => ({ type: 'log-compacted-elsewhere', session }));
  }

  /** Reads the session's durable facts from the log and feeds them to the core; null when it is not open here. */
  async #readDurable(
    sessionId: string,
    event: (d: DurableSession) => SessionCoreEvent,
  ): Promise<DurableSession | null> {
    const session = this.sessions.get(sessionId);
    if (!session) return null;
    const durable = await durableSession(this.#deps.log, session.meta);
    if (this.#closed || !this.sessions.has(sessionId)) return null;
    this.#feed(event(durable));
    return durable;
  }

  /**
   * Cluster mode: the leader confirmed a snapshot of the session; the core
   * takes the log's facts (new replicas start from it). Returns them, or null
   * when the session is not open here.
   */
  adoptClusterSnapshot(sessionId: string): Promise<DurableSession | null> {
    return this.#readDurable(sessionId, (session) => ({ type: 'cluster-snapshot-confirmed', session }));
  }

  /** Cluster mode: the leader asks this server's replicas of the session for their state at `seq`. */
  checkpointWanted(sessionId: string, seq: number): void {
    if (this.sessions.has(sessionId)) this.#feed({ type: 'checkpoint-wanted', sessionId, seq });
  }

  /** The node left or its socket dropped: its replicas are gone; restore R elsewhere. */
  nodeGone(nodeId: string, reason: string): void {
    this.#feed({ type: 'node-gone', nodeId, reason });
    this.#ports.delete(nodeId);
    this.emit('nodeschanged');
  }

  /** The app bundles a node now keeps warm (placement prefers it for them). */
  setNodeBundles(nodeId: string, bundles: RegisteredNode['warmBundles']): void {
    this.#feed({ type: 'node-bundles', nodeId, bundles });
  }

  /** A replica owned by this node, or a typed refusal (nodes only touch their own replicas). */
  ownedReplica(nodeId: string, replicaId: string): { session: Session; replica: ReplicaRecord } {
    return this.#core.ownedReplica(nodeId, replicaId);
  }

  attachTransport(nodeId: string, replicaId: string, transport: types.WebRtcTransport): void {
    this.ownedReplica(nodeId, replicaId);
    this.#media.attachTransport(replicaId, transport);
  }

  attachProducer(nodeId: string, replicaId: string, producer: types.Producer): void {
    const { session } = this.ownedReplica(nodeId, replicaId);
    const sessionId = session.id;
    this.#media.attachProducer(replicaId, producer);
    producer.on('score', (scores: types.ProducerScore[]) => {
      const score = scores[0]?.score;
      if (score !== undefined) this.#feed({ type: 'producer-score', sessionId, replicaId, score });
    });
    producer.on('transportclose', () => {
      this.#feed({ type: 'producer-closed', sessionId, replicaId, producerId: producer.id });
    });
    this.#feed({ type: 'producer-attached', nodeId, replicaId, producerId: producer.id });
  }

  onReplicaStatus(
    nodeId: string,
    replicaId: string,
    status: ReplicaStatusReport,
    selection: SelectionGeometry | null = null,
  ): { headSeq: number } {
    this.#feed({ type: 'replica-status', nodeId, replicaId, status, selection });
    const { headSeq } = this.ownedReplica(nodeId, replicaId).session;
    // A standby is told the head of what it was sent: the inputs held for it arrive within the hold, and
    // the log's own head would have it fetch them meanwhile (a request, then the same inputs again in the
    // batch, on every status report). A replica that lost a notification still sees that it lacks it.
    const held = this.#standbyInputs.firstHeldSeq(replicaId);
    return { headSeq: held === undefined ? headSeq : Math.min(headSeq, held - 1) };
  }

  async fetchInputs(
    nodeId: string,
    replicaId: string,
    fromSeq: number,
    toSeq: number,
  ): Promise<{ inputs: SequencedInput[]; headSeq: number; compactedThrough: number }> {
    const { session } = this.ownedReplica(nodeId, replicaId);
    if (toSeq < fromSeq) throw new BadRequestError(`empty range ${fromSeq}..${toSeq}`, { fromSeq, toSeq });
    const to = Math.min(toSeq, session.headSeq, fromSeq + LIMITS.maxFetchBatch - 1);
    const inputs = to < fromSeq ? [] : await this.#deps.log.read(session.id, fromSeq, to, LIMITS.maxFetchBatch);
    return { inputs, headSeq: session.headSeq, compactedThrough: session.compactedThrough };
  }

  onHeartbeat(nodeId: string, load: number): void {
    this.#feed({ type: 'heartbeat', nodeId, load });
    this.emit('nodeschanged');
  }

  /** A node could not (or would not) host a replica it was given: re-place it elsewhere. */
  onReplicaRefused(nodeId: string, replicaId: string, code: RefusalCode, reason: string): void {
    this.#feed({ type: 'replica-refused', nodeId, replicaId, code, reason });
  }

  /** The app failed in a running replica (the node closed it): the core re-places it, or fails the session. */
  onReplicaFailed(nodeId: string, replicaId: string, failure: AppFailure): void {
    this.#feed({ type: 'replica-failed', nodeId, replicaId, failure });
  }

  /**
   * A replica's answer to a snapshot checkpoint (the core decides whether it
   * is trusted: session-core.ts). Resolves once a confirmed snapshot is
   * durably stored and the log truncated; rejects when a write failed.
   */
  async onSnapshot(
    nodeId: string,
    replicaId: string,
    seq: number,
    stateHash: string,
    data: Buffer,
  ): Promise<{ stored: boolean; confirmed: boolean }> {
    let commands: SessionCoreCommand[];
    try {
      commands = this.#core.handle({ type: 'snapshot-answer', nodeId, replicaId, seq, stateHash, data }, this.#now());
    } catch (err) {
      const refusal = err instanceof LockstepError ? err.context['refusal'] : undefined;
      const what =
        refusal === 'unsolicited'
          ? 'refused an unsolicited snapshot'
          : refusal === 'hash-mismatch'
            ? 'refused a snapshot that does not match its hash'
            : 'refused a snapshot';
      log.warn({ nodeId, replicaId, seq, err }, what);
      throw err;
    }
    const decided = commands.find((c) => c.type === 'checkpoint-decided');
    await this.#apply(commands);
    return { stored: decided?.store === true, confirmed: decided !== undefined };
  }

  /** The snapshot this replica was told to start from (or the latest, once it fell behind compaction). */
  async fetchSnapshot(
    nodeId: string,
    replicaId: string,
  ): Promise<{ seq: number; stateHash: string; data: Buffer } | null> {
    const { session, replica } = this.ownedReplica(nodeId, replicaId);
    const pinned = replica.restoredFrom;
    const snap =
      pinned !== null && pinned >= session.compactedThrough
        ? await this.#deps.log.snapshotAt(session.id, pinned)
        : await this.#deps.log.latestSnapshot(session.id);
    return snap ? { seq: snap.seq, stateHash: snap.stateHash, data: snap.data } : null;
  }

  // ------------------------------------------------------------------ carrying out the core's commands

  /** Feeds one event whose commands need no write (refusals are thrown to the caller). */
  #feed(event: SessionCoreEvent): void {
    this.#run(this.#core.handle(event, this.#now()), event.type);
  }

  #run(commands: readonly SessionCoreCommand[], cause: SessionCoreEvent['type']): void {
    this.#apply(commands).catch((err: unknown) => log.error({ err, event: cause }, 'session command failed'));
  }

  #notify(nodeId: string, msg: NodeNotification): void {
    this.#ports.get(nodeId)?.notify(msg);
  }

  /**
   * Carries out commands in order. Node notifications and emits run at once
   * (synchronously up to the first write); a write is awaited and its outcome
   * fed back to the core, whose answer runs before the rest.
   */
  async #apply(commands: readonly SessionCoreCommand[]): Promise<void> {
    for (const c of commands) {
      if (this.#closed) return;
      switch (c.type) {
        case 'create-replica':
          this.#notify(c.nodeId, { type: 'replica.create', assignment: c.assignment });
          break;
        case 'close-replica':
          this.#notify(c.nodeId, { type: 'replica.close', replicaId: c.replicaId, reason: c.reason });
          break;
        case 'send-inputs':
          this.#standbyInputs.send(c.nodeId, c.replicaId, c.inputs, c.watched);
          break;
        case 'ask-status':
          this.#notify(c.nodeId, { type: 'replica.statusRequest', replicaId: c.replicaId });
          break;
        case 'ask-snapshot':
          this.#notify(c.nodeId, { type: 'replica.snapshotRequest', replicaId: c.replicaId, seq: c.seq });
          break;
        case 'disconnect-node': {
          const port = this.#ports.get(c.nodeId);
          this.#ports.delete(c.nodeId);
          port?.disconnect(c.reason);
          break;
        }
        case 'replicas-adopted':
          // The gateway answers the node with the list (registerNode returns it).
          break;
        case 'store-snapshot':
          await this.#storeSnapshot(c);
          break;
        case 'truncate-log':
          await this.#truncate(c.sessionId, c.throughSeq);
          break;
        case 'drop-snapshot':
          if (this.#deps.config.store.kind === 'etcd') {
            // The cluster's snapshot was confirmed by a majority of hosts: one server's replica does not delete it.
            log.warn({ ...c }, 'a replica diverged after restoring the cluster snapshot: falling back here only');
            break;
          }
          await this.#deps.log
            .deleteSnapshots(c.sessionId, { onlySeq: c.seq })
            .catch((err: unknown) => log.error({ err, ...c }, 'could not delete a blamed snapshot'));
          break;
        case 'replica-removed':
          this.#media.release(c.replicaId);
          log.info({ sessionId: c.sessionId, replicaId: c.replicaId, reason: c.reason }, 'replica removed');
          this.emit('replicaremoved', {
            sessionId: c.sessionId,
            replicaId: c.replicaId,
            cause: c.cause,
            reason: c.reason,
          });
          break;
        case 'session-update': {
          const session = this.sessions.get(c.sessionId);
          if (session) this.emit('sessionupdate', session.info(this.#now()));
          break;
        }
        case 'session-ended':
          await this.#deps.sfu.closeRouter(c.sessionId);
          this.emit('sessionclosed', { sessionId: c.sessionId, reason: c.reason });
          break;
        case 'divergence':
          this.emit('divergence', {
            sessionId: c.sessionId,
            replicaId: c.replicaId,
            hostId: c.hostId,
            seq: c.seq,
            hash: c.hash,
            majorityHash: c.majorityHash,
          });
          break;
        case 'selection':
          this.emit('selection', {
            sessionId: c.sessionId,
            replicaId: c.replicaId,
            seq: c.seq,
            selection: c.selection,
          });
          break;
        case 'checkpoint-answer':
          this.emit('checkpointanswer', {
            sessionId: c.sessionId,
            replicaId: c.replicaId,
            hostId: c.hostId,
            seq: c.seq,
            stateHash: c.stateHash,
            data: c.data,
          });
          break;
        case 'checkpoint-decided':
          log.info(
            { sessionId: c.sessionId, seq: c.seq, hosts: c.hosts, store: c.store },
            'snapshot checkpoint confirmed',
          );
          break;
        case 'snapshot-announced':
          log.info(
            { sessionId: c.sessionId, seq: c.seq, bytes: c.bytes, truncated: c.truncated },
            'quorum-confirmed snapshot stored',
          );
          this.emit('snapshotstored', { sessionId: c.sessionId, seq: c.seq, bytes: c.bytes, truncated: c.truncated });
          break;
        case 'log':
          log[c.level](c.ctx, c.msg);
          break;
        default: {
          const never: never = c;
          throw new BadRequestError('unknown session command', { command: never });
        }
      }
    }
  }

  /** Nothing unwritten is trusted: the core hears "stored" only once the log has it. */
  #storeSnapshot(c: Extract<SessionCoreCommand, { type: 'store-snapshot' }>): Promise<void> {
    const { sessionId, seq } = c;
    return this.#acknowledged(
      () => this.#deps.log.putSnapshot({ sessionId, seq, stateHash: c.stateHash, data: c.data }),
      () => ({ type: 'snapshot-stored', sessionId, seq }),
      (error) => ({ type: 'snapshot-store-failed', sessionId, seq, error }),
    );
  }

  /** Older snapshots and the log through the previous confirmed one; compaction moves once both are written. */
  #truncate(sessionId: string, throughSeq: number): Promise<void> {
    return this.#acknowledged(
      async () => {
        await this.#deps.log.deleteSnapshots(sessionId, { beforeSeq: throughSeq });
        return this.#deps.log.truncateThrough(sessionId, throughSeq);
      },
      (truncated) => ({ type: 'log-truncated', sessionId, throughSeq, truncated }),
      (error) => ({ type: 'log-truncate-failed', sessionId, throughSeq, error }),
    );
  }

  /** Awaits one write and feeds its outcome to the core; a failure is fed back and then rethrown to the caller. */
  async #acknowledged<T>(
    write: () => Promise<T>,
    done: (value: T) => SessionCoreEvent,
    failed: (error: string) => SessionCoreEvent,
  ): Promise<void> {
    let value: T;
    try {
      value = await write();
    } catch (err) {
      await this.#apply(this.#core.handle(failed(String(err)), this.#now()));
      throw err;
    }
    await this.#apply(this.#core.handle(done(value), this.#now()));
  }

  // ------------------------------------------------------------------ health

  #healthTick(): void {
    if (this.#ticking) return;
    this.#ticking = true;
    this.#apply(this.#core.handle({ type: 'tick' }, this.#now()))
      .catch((err: unknown) => log.error({ err }, 'health tick failed'))
      .finally(() => {
        this.#ticking = false;
      });
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#healthTimer);
    this.#inputSource.off('sequenced', this.#onSequenced);
    this.#standbyInputs.close();
    this.#media.releaseAll();
  }
}
