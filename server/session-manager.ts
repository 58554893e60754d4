// The session manager: sessions, their replicas on renderer nodes, and the
// flow of inputs (viewer → sequencer → durable log → every replica). It keeps
// R replicas per session on distinct hosts, judges replica health, and tells
// viewers what changed. Transport stays at the edges (the gateways).
import { randomBytes } from 'node:crypto';
import type { types } from 'mediasoup';
import type { InputEvent, SequencedInput } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import { getLogger } from '../protocol/logger.js';
import type { SelectionGeometry } from '../protocol/selection.js';
import type { AppRef, SessionInfo } from '../protocol/session.js';
import type { AdoptedReplica, HeldReplica, InputAck, ReplicaAssignment } from '../protocol/signalling.js';
import { TypedEmitter } from '../protocol/typed-emitter.js';
import { appCatalog } from '../render/app-catalog.js';
import { stateHashOf } from '../render/app-hash.js';
import type { ServerConfig } from './config.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, QuotaExceededError } from './errors.js';
import type { InputLog } from './input-log.js';
import { NodeRegistry, type RegisteredNode } from './node-registry.js';
import { planPlacement, replicasToAdd } from './placement.js';
import { adoptHeldReplicas } from './replica-adopter.js';
import { adoptionVouched } from './replica-adoption.js';
import { voteOnHashes, type HealthThresholds, type ReplicaStatusReport } from './replica-health.js';
import type { Sequencer } from './sequencer.js';
import { noteSelection } from './selection-relay.js';
import { Session, type ReplicaRecord } from './session.js';
import type { SessionStore } from './session-store.js';
import { SnapshotCheckpoint, snapshotQuorum, type CheckpointDecision } from './snapshot-checkpoint.js';
import { watchedFirst } from './fan-out-order.js';
import type { Sfu } from './sfu.js';
import type { BundleStore } from './bundle-store.js';
import { isPublishedApp, parseAppSpec } from '../protocol/bundle.js';

const log = getLogger('session-manager');

/** How long a snapshot checkpoint may wait for a quorum of answers before a new one is asked. */
const SNAPSHOT_CHECKPOINT_TIMEOUT_MS = 10_000;

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

export interface SessionManagerEvents {
  /** Anything a viewer of this session should see changed. */
  sessionupdate: [SessionInfo];
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
}

/** Why a replica stopped being offered: a bounded label for logs and metrics. */
export type RemovalCause = 'node-gone' | 'unresponsive' | 'diverged' | 'refused' | 'closed';

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
}

export class SessionManager extends TypedEmitter<SessionManagerEvents> {
  readonly sessions = new Map<string, Session>();
  readonly nodes = new NodeRegistry();
  readonly #deps: SessionManagerDeps;
  readonly #now: () => number;
  readonly #catalog: Map<string, AppRef>;
  #healthTimer: NodeJS.Timeout | undefined;
  /** A health tick is still awaiting the log (a snapshot fallback): the next one waits its turn. */
  #ticking = false;
  /** Sessions whose confirmed snapshot is being written: no new checkpoint until it is. */
  readonly #storingSnapshot = new Set<string>();
  #closed = false;
  /** Sessions loaded at start whose nodes may still come back with their replicas (config.adoptionWindowMs). */
  readonly #awaitingAdoption = new Set<string>();
  #adoptionTimer: NodeJS.Timeout | undefined;

  private constructor(deps: SessionManagerDeps) {
    super();
    this.#deps = deps;
    this.#now = deps.now ?? Date.now;
    this.#catalog = new Map(appCatalog().map((a) => [a.name, a]));
    deps.sequencer.on('sequenced', (batches) => {
      for (const b of batches) this.#fanOut(b.sessionId, b.inputs);
    });
  }

  /** Loads open sessions from the store (they come back after a server restart). */
  static async create(deps: SessionManagerDeps): Promise<SessionManager> {
    const manager = new SessionManager(deps);
    for (const row of await deps.store.list()) {
      const session = new Session(
        {
          sessionId: row.id,
          owner: row.owner,
          app: row.app,
          replicationFactor: row.replicationFactor,
          width: row.width,
          height: row.height,
          createdAt: row.createdAt,
        },
        await deps.log.headSeq(row.id),
        deps.health,
      );
      const snap = await deps.log.latestSnapshot(row.id);
      if (snap) {
        session.snapshot = { seq: snap.seq, stateHash: snap.stateHash };
        session.compactedThrough = await compactedThrough(deps.log, row.id, snap.seq, session.headSeq);
      }
      manager.sessions.set(session.id, session);
    }
    manager.#healthTimer = setInterval(() => manager.#healthTick(), deps.config.healthIntervalMs);
    for (const id of manager.sessions.keys()) manager.#awaitingAdoption.add(id);
    manager.#adoptionTimer = setTimeout(() => {
      manager.#awaitingAdoption.clear();
      manager.#reconcileAll();
    }, deps.config.adoptionWindowMs);
    log.info({ sessions: manager.sessions.size }, 'session manager ready');
    return manager;
  }

  apps(): AppRef[] {
    return [...this.#catalog.values()];
  }

  get(sessionId: string): Session {
    const s = this.sessions.get(sessionId);
    if (!s) throw new NotFoundError(`no session ${sessionId}`, { sessionId });
    return s;
  }

  list(): SessionInfo[] {
    const now = this.#now();
    return [...this.sessions.values()].map((s) => s.info(now));
  }

  info(sessionId: string): SessionInfo {
    return this.get(sessionId).info(this.#now());
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
      id: `s-${randomBytes(6).toString('hex')}`,
      owner: req.owner,
      app,
      replicationFactor: req.replicationFactor ?? d.defaultReplicationFactor,
      width: req.width ?? d.defaultWidth,
      height: req.height ?? d.defaultHeight,
    });
    const session = new Session(
      {
        sessionId: row.id,
        owner: row.owner,
        app,
        replicationFactor: row.replicationFactor,
        width: row.width,
        height: row.height,
        createdAt: row.createdAt,
      },
      0,
      this.#deps.health,
    );
    this.sessions.set(session.id, session);
    log.info({ sessionId: session.id, app, r: row.replicationFactor }, 'session created');
    this.#reconcile(session);
    return session.info(this.#now());
  }

  async closeSession(sessionId: string, reason = 'closed by owner'): Promise<void> {
    const session = this.get(sessionId);
    // Durably closed first: when the store cannot write, the session stays open and the caller hears why.
    await this.#deps.store.close(sessionId);
    for (const r of [...session.replicas.values()]) this.#removeReplica(session, r, 'closed', reason);
    session.close();
    this.sessions.delete(sessionId);
    await this.#deps.sfu.closeRouter(sessionId);
    this.emit('sessionclosed', { sessionId, reason });
  }

  // ------------------------------------------------------------------ inputs

  async submitInput(sessionId: string, clientId: string, clientSeq: number, event: InputEvent): Promise<InputAck> {
    this.get(sessionId);
    const res = await this.#deps.sequencer.submit({ sessionId, clientId, clientSeq, event });
    return { seq: res.input.seq, duplicate: res.duplicate };
  }

  /** Asks every replica of the session for a fresh status (applied seq + hash), e.g. when a viewer joins. */
  requestStatus(sessionId: string): void {
    const session = this.get(sessionId);
    for (const r of session.activeReplicas()) {
      this.nodes.get(r.nodeId)?.notify({ type: 'replica.statusRequest', replicaId: r.replicaId });
    }
  }

  lastClientSeq(sessionId: string, clientId: string): Promise<number> {
    return this.#deps.log.lastClientSeq(sessionId, clientId);
  }

  #fanOut(sessionId: string, inputs: SequencedInput[]): void {
    const session = this.sessions.get(sessionId);
    if (!session || inputs.length === 0) return;
    session.advanceHead(inputs[inputs.length - 1]?.seq ?? 0);
    // Resizes are inputs: the session's reported size follows the latest one,
    // so a viewer joining later knows the surface before its first frame.
    let resized = false;
    for (const input of inputs) {
      if (input.event.type === 'resize') {
        // Not meta: replicas always start from the creation size and replay the resize.
        session.surface = { width: input.event.width, height: input.event.height };
        resized = true;
      }
    }
    if (resized) this.emit('sessionupdate', session.info(this.#now()));
    const watchers = this.#deps.sfu.watchers;
    const order = watchedFirst(
      session.activeReplicas(),
      (r) => r.producer !== null && watchers.isWatched(r.producer.id),
    );
    for (const r of order) {
      this.nodes.get(r.nodeId)?.notify({ type: 'inputs', replicaId: r.replicaId, inputs });
    }
  }

  // ------------------------------------------------------------------ nodes

  /** `held`: replicas the node kept running from before; those adopted (replica-adopter.ts) are returned. */
  registerNode(node: RegisteredNode, held: readonly HeldReplica[] = []): AdoptedReplica[] {
    const existing = this.nodes.get(node.nodeId);
    if (existing) this.nodeGone(node.nodeId, 'replaced by a new connection');
    this.nodes.add(node);
    log.info({ nodeId: node.nodeId, hostId: node.hostId, apps: node.apps, held: held.length }, 'node registered');
    const view = this.nodes.views().find((v) => v.nodeId === node.nodeId);
    const adopted = view ? adoptHeldReplicas(this.sessions, node, view, held, this.#now()) : [];
    this.#reconcileAll();
    return adopted;
  }

  /**
   * Before judging held replicas against the head: another server may have
   * sequenced inputs this one has not seen (cluster mode); the log knows.
   */
  async syncHeads(held: readonly HeldReplica[]): Promise<void> {
    for (const claim of held) {
      const session = this.sessions.get(claim.sessionId);
      if (session && claim.appliedSeq > session.headSeq) session.advanceHead(await this.#deps.log.headSeq(session.id));
    }
  }

  /** The node left or its socket dropped: its replicas are gone; restore R elsewhere. */
  nodeGone(nodeId: string, reason: string): void {
    const node = this.nodes.remove(nodeId);
    if (!node) return;
    log.warn({ nodeId, hostId: node.hostId, reason, replicas: node.replicas.size }, 'node gone');
    for (const [replicaId, sessionId] of node.replicas) {
      const session = this.sessions.get(sessionId);
      const r = session?.replicas.get(replicaId);
      if (session && r) this.#removeReplica(session, r, 'node-gone', `node ${nodeId} gone: ${reason}`, false);
    }
    this.#reconcileAll();
  }

  /** A replica owned by this node, or a typed refusal (nodes only touch their own replicas). */
  ownedReplica(nodeId: string, replicaId: string): { session: Session; replica: ReplicaRecord } {
    const node = this.nodes.get(nodeId);
    const sessionId = node?.replicas.get(replicaId);
    const session = sessionId ? this.sessions.get(sessionId) : undefined;
    const replica = session?.replicas.get(replicaId);
    if (!session || !replica || replica.nodeId !== nodeId) {
      throw new ForbiddenError(`replica ${replicaId} is not assigned to node ${nodeId}`, { nodeId, replicaId });
    }
    return { session, replica };
  }

  attachTransport(nodeId: string, replicaId: string, transport: types.WebRtcTransport): void {
    const { replica } = this.ownedReplica(nodeId, replicaId);
    replica.transport?.close();
    replica.transport = transport;
  }

  attachProducer(nodeId: string, replicaId: string, producer: types.Producer): void {
    const { session, replica } = this.ownedReplica(nodeId, replicaId);
    replica.producer = producer;
    if (replica.state === 'starting') replica.state = 'catching-up';
    producer.on('score', (scores: types.ProducerScore[]) => {
      const score = scores[0]?.score;
      if (score !== undefined) session.health.onProducerScore(replicaId, score);
    });
    this.#maybeLive(session, replica);
    this.emit('sessionupdate', session.info(this.#now()));
  }

  onReplicaStatus(
    nodeId: string,
    replicaId: string,
    status: ReplicaStatusReport,
    selection: SelectionGeometry | null = null,
  ): { headSeq: number } {
    const { session, replica } = this.ownedReplica(nodeId, replicaId);
    if (status.appliedSeq > session.headSeq) {
      throw new BadRequestError(`replica reports seq ${status.appliedSeq} beyond head ${session.headSeq}`, {
        replicaId,
        headSeq: session.headSeq,
      });
    }
    session.health.onStatus(replicaId, status, this.#now());
    replica.appliedSeq = status.appliedSeq;
    replica.stateHash = status.stateHash;
    if (noteSelection(replica, status.appliedSeq, selection)) {
      this.emit('selection', { sessionId: session.id, replicaId, seq: status.appliedSeq, selection });
    }
    this.#maybeLive(session, replica);
    return { headSeq: session.headSeq };
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
    const node = this.nodes.get(nodeId);
    if (!node) throw new ForbiddenError(`node ${nodeId} is not registered`, { nodeId });
    node.lastHeartbeatAt = this.#now();
    node.load = Math.min(1, load);
  }

  /** A node could not (or would not) host a replica it was given: re-place it elsewhere. */
  onReplicaRefused(nodeId: string, replicaId: string, reason: string): void {
    const { session, replica } = this.ownedReplica(nodeId, replicaId);
    log.warn({ sessionId: session.id, replicaId, nodeId, reason }, 'node refused a replica');
    const node = this.nodes.get(nodeId);
    // It does not have this app version after all: stop offering it this app.
    if (node && /version|hash|app|bundle/i.test(reason)) {
      const { app } = session.meta;
      node.apps = node.apps.filter((a) => !(a.name === app.name && a.hash === app.hash));
      if (isPublishedApp(app)) node.refusedBundles = [...node.refusedBundles, app.hash];
    }
    this.#removeReplica(session, replica, 'refused', `refused by node: ${reason}`, false);
    this.#reconcile(session);
  }

  /**
   * A replica's answer to a snapshot checkpoint. Nothing is stored on one
   * node's word: the bytes must match the hash the replica claims, the replica
   * must have been asked for this seq, and the snapshot is stored (and the log
   * truncated behind the previous one) only once replicas on a majority of the
   * session's hosts report the same hash at that seq.
   */
  async onSnapshot(
    nodeId: string,
    replicaId: string,
    seq: number,
    stateHash: string,
    data: Buffer,
  ): Promise<{ stored: boolean; confirmed: boolean }> {
    const { session, replica } = this.ownedReplica(nodeId, replicaId);
    const ctx = { sessionId: session.id, replicaId, nodeId, hostId: replica.hostId, seq };
    const checkpoint = session.checkpoint;
    if (!checkpoint?.asked(replicaId)) {
      log.warn(ctx, 'refused an unsolicited snapshot');
      throw new ForbiddenError('unsolicited snapshot: the server did not ask this replica for one', ctx);
    }
    if (stateHashOf(data) !== stateHash) {
      log.warn(ctx, 'refused a snapshot that does not match its hash');
      throw new ConflictError('snapshot bytes do not match the claimed state hash', ctx);
    }
    if (seq > session.headSeq) throw new BadRequestError(`snapshot seq ${seq} is beyond the head`, ctx);
    try {
      checkpoint.report(replicaId, seq, stateHash, data);
    } catch (err) {
      log.warn({ ...ctx, err }, 'refused a snapshot');
      throw err;
    }
    const decision = checkpoint.decision();
    if (!decision) return { stored: false, confirmed: false };
    session.checkpoint = null;
    if (session.snapshot && decision.seq <= session.snapshot.seq) return { stored: false, confirmed: true };
    this.#storingSnapshot.add(session.id);
    try {
      await this.#storeConfirmedSnapshot(session, decision);
    } finally {
      this.#storingSnapshot.delete(session.id);
    }
    return { stored: true, confirmed: true };
  }

  async #storeConfirmedSnapshot(session: Session, d: CheckpointDecision): Promise<void> {
    const previous = session.snapshot;
    await this.#deps.log.putSnapshot({ sessionId: session.id, seq: d.seq, stateHash: d.stateHash, data: d.data });
    // Nothing unwritten is trusted: replicas are only pointed at it once it is durable.
    session.snapshot = { seq: d.seq, stateHash: d.stateHash };
    // The previous confirmed snapshot and its log tail stay: the fallback if this one turns out bad.
    let truncated = 0;
    if (previous) {
      await this.#deps.log.deleteSnapshots(session.id, { beforeSeq: previous.seq });
      truncated = await this.#deps.log.truncateThrough(session.id, previous.seq);
      session.compactedThrough = Math.max(session.compactedThrough, previous.seq);
    }
    log.info(
      { sessionId: session.id, seq: d.seq, hosts: d.hosts, bytes: d.data.length, truncated },
      'quorum-confirmed snapshot stored',
    );
    this.emit('snapshotstored', { sessionId: session.id, seq: d.seq, bytes: d.data.length, truncated });
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

  #maybeLive(session: Session, r: ReplicaRecord): void {
    if (r.adopted && r.state === 'catching-up') {
      if (!adoptionVouched(r.replicaId, session.health.hashReports(), session.activeReplicas().length)) return;
      r.adopted = false;
    }
    if (r.state === 'catching-up' && r.producer && r.appliedSeq >= r.catchUpTo) {
      r.state = 'live';
      log.info({ sessionId: session.id, replicaId: r.replicaId, hostId: r.hostId, seq: r.appliedSeq }, 'replica live');
      this.emit('sessionupdate', session.info(this.#now()));
    }
  }

  // ------------------------------------------------------------------ placement

  #reconcileAll(): void {
    for (const s of this.sessions.values()) this.#reconcile(s);
  }

  /** Places replicas until the session has R on distinct hosts (or no host is left). */
  #reconcile(session: Session): void {
    if (this.#closed || session.closed || this.#awaitingAdoption.has(session.id)) return;
    const active = session.activeReplicas();
    const want = replicasToAdd(active.length, session.meta.replicationFactor);
    if (want === 0) return;
    const plan = planPlacement(this.nodes.views(), {
      sessionId: session.id,
      app: session.meta.app,
      want,
      excludeHosts: [...active.map((r) => r.hostId), ...session.quarantinedHosts],
      excludeAdmissions: active.map((r) => r.admissionId),
    });
    for (const view of plan.chosen) {
      const node = this.nodes.get(view.nodeId);
      if (!node) continue;
      const replicaId = session.nextReplicaId();
      const record: ReplicaRecord = {
        replicaId,
        nodeId: node.nodeId,
        hostId: node.hostId,
        admissionId: node.admissionId,
        state: 'starting',
        catchUpTo: session.headSeq,
        appliedSeq: 0,
        stateHash: null,
        restoredFrom: session.snapshot?.seq ?? null,
        transport: null,
        producer: null,
        createdAt: this.#now(),
      };
      session.replicas.set(replicaId, record);
      session.health.track(replicaId, this.#now());
      node.replicas.set(replicaId, session.id);
      const assignment: ReplicaAssignment = {
        replicaId,
        sessionId: session.id,
        app: session.meta.app,
        width: session.meta.width,
        height: session.meta.height,
        headSeq: session.headSeq,
        snapshot: session.snapshot,
      };
      node.notify({ type: 'replica.create', assignment });
      log.info({ sessionId: session.id, replicaId, nodeId: node.nodeId, hostId: node.hostId }, 'replica placed');
    }
    if (plan.shortBy > 0) {
      log.warn({ sessionId: session.id, shortBy: plan.shortBy, reasons: plan.reasons }, 'replication factor not met');
    }
    this.emit('sessionupdate', session.info(this.#now()));
  }

  #removeReplica(session: Session, r: ReplicaRecord, cause: RemovalCause, reason: string, tellNode = true): void {
    const node = this.nodes.get(r.nodeId);
    node?.replicas.delete(r.replicaId);
    if (tellNode) node?.notify({ type: 'replica.close', replicaId: r.replicaId, reason });
    session.closeReplica(r.replicaId);
    log.info({ sessionId: session.id, replicaId: r.replicaId, hostId: r.hostId, reason }, 'replica removed');
    this.emit('replicaremoved', { sessionId: session.id, replicaId: r.replicaId, cause, reason });
  }

  // ------------------------------------------------------------------ health

  #healthTick(): void {
    if (this.#ticking) return;
    this.#ticking = true;
    this.#healthTickNow()
      .catch((err: unknown) => log.error({ err }, 'health tick failed'))
      .finally(() => {
        this.#ticking = false;
      });
  }

  async #healthTickNow(): Promise<void> {
    const now = this.#now();
    for (const node of this.nodes.all()) {
      if (now - node.lastHeartbeatAt > this.#deps.config.nodeDeadAfterMs) {
        node.disconnect('heartbeat timeout');
        this.nodeGone(node.nodeId, `no heartbeat for ${now - node.lastHeartbeatAt} ms`);
      }
    }
    for (const session of this.sessions.values()) {
      let changed = false;
      for (const a of session.health.assessAll(now)) {
        const r = session.replicas.get(a.replicaId);
        if (!r) continue;
        if (a.verdict === 'dead') {
          this.#removeReplica(session, r, 'unresponsive', `no status for ${a.health.heartbeatAgeMs} ms`);
          changed = true;
        }
      }
      changed = (await this.#voteOnState(session)) || changed;
      if (this.#closed || session.closed) continue;
      if (changed) this.#reconcile(session);
      else this.emit('sessionupdate', session.info(now));
      this.#maybeRequestSnapshot(session, now);
    }
  }

  /** Majority vote on state hashes at a common seq; the minority is quarantined and replaced. */
  async #voteOnState(session: Session): Promise<boolean> {
    const reports = session.health.hashReports();
    const vote = voteOnHashes(reports);
    if (vote.seq === null || vote.majorityHash === null || vote.minority.length === 0) return false;
    for (const replicaId of vote.minority) {
      const r = session.replicas.get(replicaId);
      if (!r) continue;
      const hash = reports.find((x) => x.replicaId === replicaId && x.seq === vote.seq)?.stateHash ?? '?';
      const event = {
        sessionId: session.id,
        replicaId,
        hostId: r.hostId,
        seq: vote.seq,
        hash,
        majorityHash: vote.majorityHash,
      };
      this.emit('divergence', event);
      if (await this.#blameSnapshot(session, r)) {
        this.#removeReplica(
          session,
          r,
          'diverged',
          `diverged after restoring snapshot ${r.restoredFrom}; restarting from the one before`,
        );
        continue;
      }
      log.error(event, 'replica diverged from the majority: quarantined and replaced');
      session.quarantinedHosts.add(r.hostId);
      r.state = 'quarantined';
      this.#removeReplica(
        session,
        r,
        'diverged',
        `quarantined: state hash ${hash} at seq ${vote.seq} disagrees with majority ${vote.majorityHash}`,
      );
    }
    return true;
  }

  /**
   * A replica that diverged right after restoring the latest snapshot may be an
   * honest host fed bad state: the snapshot is dropped (its log tail is still
   * there) and the session falls back to the previous one. Returns true when the
   * snapshot took the blame, so the host is not quarantined for it.
   */
  async #blameSnapshot(session: Session, r: ReplicaRecord): Promise<boolean> {
    const from = r.restoredFrom;
    if (from === null || session.snapshot?.seq !== from || from <= session.compactedThrough) return false;
    await this.#deps.log.deleteSnapshots(session.id, { onlySeq: from });
    const previous = await this.#deps.log.snapshotBefore(session.id, from);
    session.snapshot = previous && { seq: previous.seq, stateHash: previous.stateHash };
    log.error(
      { sessionId: session.id, replicaId: r.replicaId, hostId: r.hostId, badSeq: from, fallback: previous?.seq ?? 0 },
      'a replica restored from the latest snapshot diverged: snapshot dropped, falling back to the previous one',
    );
    return true;
  }

  /**
   * Every `snapshotEvery` inputs, ask every healthy live replica for its state
   * at the current head; see onSnapshot for how the answers are trusted. A
   * checkpoint that found no quorum in time is dropped and a new one asked.
   */
  #maybeRequestSnapshot(session: Session, now: number): void {
    if (this.#storingSnapshot.has(session.id)) return;
    const pending = session.checkpoint;
    if (pending) {
      if (now - pending.requestedAt < SNAPSHOT_CHECKPOINT_TIMEOUT_MS) return;
      log.warn({ sessionId: session.id, seq: pending.seq }, 'snapshot checkpoint found no quorum in time; dropped');
      session.checkpoint = null;
    }
    const since = session.headSeq - (session.snapshot?.seq ?? 0);
    if (since < this.#deps.config.snapshotEvery) return;
    const targets = session
      .activeReplicas()
      .filter((r) => r.state === 'live' && session.health.assess(r.replicaId, now)?.verdict === 'healthy');
    if (new Set(targets.map((r) => r.hostId)).size < snapshotQuorum(session.meta.replicationFactor)) return;
    const seq = session.headSeq;
    session.checkpoint = new SnapshotCheckpoint(seq, targets, session.meta.replicationFactor, now);
    for (const r of targets) {
      this.nodes.get(r.nodeId)?.notify({ type: 'replica.snapshotRequest', replicaId: r.replicaId, seq });
    }
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#healthTimer);
    clearTimeout(this.#adoptionTimer);
    for (const s of this.sessions.values()) s.close();
  }
}
