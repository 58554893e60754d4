// The session core: sessions, their replicas on renderer nodes, liveness, the
// hash vote, placement and snapshot policy, as a pure state machine. Events in
// (with the caller's `now`), commands out; no sockets, timers, log or SFU. The
// single server runs one behind server/session-manager.ts; a cluster leader
// runs the same one, built from the same durable facts.
import type { ReplicaFailureCause } from '../../protocol/cluster-state.js';
import type { SequencedInput } from '../../protocol/input.js';
import { isPermanentRefusal, type AppFailure, type RefusalCode } from '../../protocol/replica-failure.js';
import type { AdoptedReplica, HeldReplica } from '../../protocol/signalling.js';
import type { SessionInfo } from '../../protocol/session.js';
import { stateHashOf } from '../../render/app-hash.js';
import { isPublishedApp } from '../../protocol/bundle.js';
import { BadRequestError, ConflictError, ForbiddenError, NotFoundError, NotRegisteredError } from '../errors.js';
import { watchedFirst } from './fan-out-order.js';
import { NodeRegistry, type NodeRecord } from './node-registry.js';
import { planPlacement, replicasToAdd } from './placement.js';
import { adoptionVouched, planAdoption, type AdoptionSessionView } from './replica-adoption.js';
import { voteOnHashes } from './replica-health.js';
import { noteSelection } from './selection-relay.js';
import { Session, type ReplicaRecord } from './session.js';
import type {
  DurableSession,
  RemovalCause,
  RunningReplica,
  SessionCoreCommand,
  SessionCoreEvent,
  SessionCoreOptions,
} from './session-core-types.js';
import { appFailureQuorum } from './app-failure-vote.js';
import { SnapshotCheckpoint, snapshotQuorum } from './snapshot-checkpoint.js';

export { appFailureQuorum };

export type * from './session-core-types.js';

type Out = SessionCoreCommand[];

/** The least time between two status rounds asked for a session's viewers (one health tick). */
export const STATUS_ASK_MIN_INTERVAL_MS = 250;

export class SessionCore {
  readonly #sessions = new Map<string, Session>();
  readonly #nodes = new NodeRegistry();
  readonly #options: SessionCoreOptions;
  /** Restored sessions still waiting for their nodes' held replicas: sessionId → until (core clock). */
  readonly #awaitingNodes = new Map<string, number>();
  /** Placement 'table': each session's entry, replica id → node id (kept for sessions not opened yet, too). */
  readonly #placed = new Map<string, ReadonlyMap<string, string>>();

  constructor(options: SessionCoreOptions) {
    this.#options = options;
  }

  /** Read-only views for the adapter (queries, metrics); change only goes through handle(). */
  get sessions(): ReadonlyMap<string, Session> {
    return this.#sessions;
  }
  get nodes(): NodeRegistry {
    return this.#nodes;
  }

  session(sessionId: string): Session {
    const s = this.#sessions.get(sessionId);
    if (!s) throw new NotFoundError(`no session ${sessionId}`, { sessionId });
    return s;
  }

  info(sessionId: string, now: number): SessionInfo {
    return this.session(sessionId).info(now);
  }

  /** A replica owned by this node, or a typed refusal (nodes only touch their own replicas). */
  ownedReplica(nodeId: string, replicaId: string): { session: Session; replica: ReplicaRecord } {
    const sessionId = this.#nodes.get(nodeId)?.replicas.get(replicaId);
    const session = sessionId ? this.#sessions.get(sessionId) : undefined;
    const replica = session?.replicas.get(replicaId);
    if (!session || !replica || replica.nodeId !== nodeId) {
      throw new ForbiddenError(`replica ${replicaId} is not assigned to node ${nodeId}`, { nodeId, replicaId });
    }
    return { session, replica };
  }

  /** Applies one event; returns what the adapter must do, in order. Refusals are thrown as typed errors. */
  handle(event: SessionCoreEvent, now: number): Out {
    const out: Out = [];
    switch (event.type) {
      case 'session-opened':
        if (event.restored && (this.#options.adoptionWindowMs ?? 0) > 0) {
          this.#awaitingNodes.set(event.session.meta.sessionId, now + (this.#options.adoptionWindowMs ?? 0));
        }
        this.#open(event.session, now, out);
        break;
      case 'session-closed':
        this.#closeSession(event.sessionId, event.reason, out);
        break;
      case 'node-joined':
        this.#nodeJoined(event.node, event.running ?? [], now, out);
        if (event.held) this.#adoptHeld(event.node.nodeId, event.held, now, out);
        this.#reconcileAll(now, out);
        break;
      case 'node-view':
        for (const n of event.nodes) this.#nodeJoined(n.node, n.running, now, out);
        this.#reconcileAll(now, out);
        break;
      case 'node-gone':
        if (this.#nodeGone(event.nodeId, event.reason, out)) this.#reconcileAll(now, out);
        break;
      case 'node-bundles': {
        const node = this.#nodes.get(event.nodeId);
        if (node) node.warmBundles = [...event.bundles];
        break;
      }
      case 'heartbeat': {
        const node = this.#nodes.get(event.nodeId);
        if (!node) throw new NotRegisteredError(`node ${event.nodeId} is not registered`, { nodeId: event.nodeId });
        node.lastHeartbeatAt = now;
        node.load = Math.min(1, event.load);
        break;
      }
      case 'replica-status':
        this.#status(event, now, out);
        break;
      case 'producer-attached': {
        const { session, replica } = this.ownedReplica(event.nodeId, event.replicaId);
        replica.producerId = event.producerId;
        if (replica.state === 'starting') replica.state = 'catching-up';
        this.#maybeLive(session, replica, out);
        out.push({ type: 'session-update', sessionId: session.id });
        break;
      }
      case 'producer-closed': {
        const r = this.#sessions.get(event.sessionId)?.replicas.get(event.replicaId);
        if (r && r.producerId === event.producerId) r.producerId = null;
        break;
      }
      case 'producer-score':
        this.#sessions.get(event.sessionId)?.health.onProducerScore(event.replicaId, event.score);
        break;
      case 'inputs-sequenced':
        this.#fanOut(event.sessionId, event.inputs, event.watched, out);
        break;
      case 'status-wanted': {
        // Every joining viewer asks. A burst of joins (any share link can send them) asks the nodes once per
        // interval: the reports it brings reach every viewer of the session.
        const session = this.session(event.sessionId);
        if (now - session.statusAskedAt < STATUS_ASK_MIN_INTERVAL_MS) break;
        session.statusAskedAt = now;
        for (const r of session.activeReplicas()) {
          out.push({ type: 'ask-status', nodeId: r.nodeId, replicaId: r.replicaId });
        }
        break;
      }
      case 'head-seen':
        this.#sessions.get(event.sessionId)?.advanceHead(event.headSeq);
        break;
      case 'log-compacted-elsewhere':
        this.#compactedElsewhere(event.session, out);
        break;
      case 'replica-refused':
        this.#refused(event.nodeId, event.replicaId, event.code, event.reason, now, out);
        break;
      case 'replica-failed':
        this.#appFailed(event.nodeId, event.replicaId, event.failure, now, out);
        break;
      case 'snapshot-answer':
        this.#snapshotAnswer(event, out);
        break;
      case 'snapshot-stored':
        this.#snapshotStored(event.sessionId, event.seq, out);
        break;
      case 'snapshot-store-failed': {
        const s = this.#sessions.get(event.sessionId);
        if (s?.storing?.seq === event.seq && s.storing.phase === 'snapshot') s.storing = null;
        out.push(log('error', 'confirmed snapshot not stored; the log is not truncated', { ...event }));
        break;
      }
      case 'log-truncated':
        this.#logTruncated(event.sessionId, event.throughSeq, event.truncated, out);
        break;
      case 'log-truncate-failed': {
        const s = this.#sessions.get(event.sessionId);
        if (s?.storing?.phase === 'truncate') s.storing = null;
        out.push(log('error', 'log truncation failed; compaction stays where it was', { ...event }));
        break;
      }
      case 'placement':
        this.#placement(event.sessionId, event.replicas, event.appFailure ?? null, now, out);
        break;
      case 'cluster-snapshot-confirmed':
        // Replicas placed or restored from now on start from it; the running ones are as good as they were.
        if (this.#takeDurable(event.session))
          out.push({ type: 'session-update', sessionId: event.session.meta.sessionId });
        break;
      case 'checkpoint-wanted':
        this.#checkpointWanted(event.sessionId, event.seq, now, out);
        break;
      case 'tick':
        this.#tick(now, out);
        break;
      default: {
        const never: never = event;
        throw new BadRequestError('unknown session core event', { event: never });
      }
    }
    return out;
  }

  // ------------------------------------------------------------------ sessions

  #open(d: DurableSession, now: number, out: Out): void {
    if (this.#sessions.has(d.meta.sessionId)) {
      throw new ConflictError(`session ${d.meta.sessionId} is open already`, { sessionId: d.meta.sessionId });
    }
    const session = new Session(d.meta, d.headSeq, this.#options.health);
    session.snapshot = d.snapshot;
    session.previousSnapshot = d.previousSnapshot;
    session.compactedThrough = d.compactedThrough;
    this.#sessions.set(session.id, session);
    // Nodes may have joined before the session was known (a new leader learning both): adopt what they run.
    if (this.#nodes.size > 0) this.#reconcile(session, now, out);
  }

  #closeSession(sessionId: string, reason: string, out: Out): void {
    const session = this.session(sessionId);
    for (const r of [...session.replicas.values()]) this.#removeReplica(session, r, 'closed', reason, true, out);
    session.close();
    this.#sessions.delete(sessionId);
    this.#placed.delete(sessionId);
    out.push({ type: 'session-ended', sessionId, reason });
  }

  #fanOut(sessionId: string, inputs: readonly SequencedInput[], watched: ReadonlySet<string>, out: Out): void {
    const session = this.#sessions.get(sessionId);
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
    if (resized) out.push({ type: 'session-update', sessionId });
    for (const r of watchedFirst(session.activeReplicas(), (r) => watched.has(r.replicaId))) {
      out.push({
        type: 'send-inputs',
        nodeId: r.nodeId,
        replicaId: r.replicaId,
        inputs,
        watched: watched.has(r.replicaId),
      });
    }
  }

  /**
   * Takes the log's durable facts where they are ahead of this core's: the
   * head, the latest confirmed snapshot (with its fallback) and the compaction
   * point. Replicas here stay (their state is as good as it was); those behind
   * the compaction learn the head from their status answer, find their next
   * inputs gone and restore the snapshot (render/replica.ts), as after churn.
   */
  #compactedElsewhere(d: DurableSession, out: Out): void {
    const session = this.#takeDurable(d);
    if (!session) return;
    const active = session.activeReplicas();
    out.push(
      log('warn', 'log compacted past this server: replicas behind it restore the latest snapshot', {
        sessionId: session.id,
        headSeq: session.headSeq,
        snapshotSeq: session.snapshot?.seq ?? null,
        compactedThrough: session.compactedThrough,
        behind: active.filter((r) => r.appliedSeq < session.compactedThrough).map((r) => r.replicaId),
      }),
    );
    for (const r of active) out.push({ type: 'ask-status', nodeId: r.nodeId, replicaId: r.replicaId });
    out.push({ type: 'session-update', sessionId: session.id });
  }

  /** The log's facts where they are ahead of this core's; the session, or undefined when not open here. */
  #takeDurable(d: DurableSession): Session | undefined {
    const session = this.#sessions.get(d.meta.sessionId);
    if (!session) return undefined;
    session.advanceHead(d.headSeq);
    if (d.snapshot && d.snapshot.seq > (session.snapshot?.seq ?? 0)) {
      session.snapshot = d.snapshot;
      session.previousSnapshot = d.previousSnapshot;
    }
    session.compactedThrough = Math.max(session.compactedThrough, d.compactedThrough);
    return session;
  }

  // ------------------------------------------------------------------ nodes

  #nodeJoined(node: NodeRecord, running: readonly RunningReplica[], now: number, out: Out): void {
    this.#nodeGone(node.nodeId, 'replaced by a new connection', out);
    this.#nodes.add({ ...node, replicas: new Map() });
    out.push(log('info', 'node registered', { nodeId: node.nodeId, hostId: node.hostId, apps: node.apps }));
    for (const r of running) this.#adopt(node.nodeId, r, now, out);
  }

  /**
   * A replica already running on a node that joins (the node outlived the core
   * that placed it): kept when it still fits the session's placement rules, so
   * a new leader does not rebuild what runs; told to close otherwise.
   */
  #adopt(nodeId: string, running: RunningReplica, now: number, out: Out): void {
    const node = this.#nodes.get(nodeId);
    const session = this.#sessions.get(running.sessionId);
    const close = (reason: string): void => {
      out.push({ type: 'close-replica', nodeId, replicaId: running.replicaId, reason });
    };
    if (!node) return;
    if (!session || session.closed) return close('its session is not open');
    session.noteReplicaId(running.replicaId);
    const active = session.activeReplicas();
    const clash =
      session.replicas.has(running.replicaId) ||
      active.length >= session.meta.replicationFactor ||
      session.quarantinedHosts.has(node.hostId) ||
      active.some((r) => r.hostId === node.hostId || r.admissionId === node.admissionId) ||
      running.appliedSeq > session.headSeq ||
      (this.#fromTable && !this.#named(session.id, running.replicaId, nodeId));
    if (clash) return close('not wanted: the session is placed without it');
    const record: ReplicaRecord = {
      replicaId: running.replicaId,
      nodeId,
      hostId: node.hostId,
      admissionId: node.admissionId,
      state: 'catching-up',
      catchUpTo: running.appliedSeq,
      appliedSeq: running.appliedSeq,
      stateHash: running.stateHash,
      restoredFrom: null,
      producerId: running.producerId,
      createdAt: now,
    };
    session.replicas.set(record.replicaId, record);
    session.health.track(record.replicaId, now);
    node.replicas.set(record.replicaId, session.id);
    out.push(log('info', 'running replica adopted', { sessionId: session.id, replicaId: record.replicaId, nodeId }));
    this.#maybeLive(session, record, out);
  }

  /**
   * Held replicas a node announces at registration: adopted with their own ids
   * where a fresh replica could have been placed on that node (planAdoption),
   * each claim counted as its first status report, and marked `adopted` so it
   * goes live only once the hash majority vouches for it (#maybeLive).
   */
  #adoptHeld(nodeId: string, held: readonly HeldReplica[], now: number, out: Out): void {
    const node = this.#nodes.get(nodeId);
    const view = this.#nodes.views().find((v) => v.nodeId === nodeId);
    const adopted: AdoptedReplica[] = [];
    if (!node || !view) {
      out.push({ type: 'replicas-adopted', nodeId, adopted });
      return;
    }
    // Fresh replica ids must never collide with one still running somewhere, adopted or not.
    for (const claim of held) this.#sessions.get(claim.sessionId)?.noteReplicaId(claim.replicaId);
    // Cluster mode: only what the table names on this very node; anything else was placed elsewhere meanwhile.
    const unnamed = this.#fromTable ? held.filter((c) => !this.#named(c.sessionId, c.replicaId, nodeId)) : [];
    const plan = planAdoption(
      view,
      held.filter((c) => !unnamed.includes(c)),
      (id) => {
        const s = this.#sessions.get(id);
        return s && adoptionView(s);
      },
    );
    for (const claim of unnamed) {
      const reason = 'the placement table does not name it on this node';
      out.push(log('info', 'held replica not adopted', { nodeId, replicaId: claim.replicaId, reason }));
    }
    for (const { claim, reason } of plan.refuse) {
      out.push(log('info', 'held replica not adopted', { nodeId, replicaId: claim.replicaId, reason }));
      // Named here but not adoptable: reported, so the leader places it elsewhere instead of this core rebuilding it.
      const session = this.#sessions.get(claim.sessionId);
      if (this.#fromTable && session) {
        session.failed.set(claim.replicaId, {
          replicaId: claim.replicaId,
          nodeId,
          hostId: node.hostId,
          cause: 'refused',
        });
      }
    }
    for (const claim of plan.adopt) {
      const session = this.#sessions.get(claim.sessionId);
      if (!session) continue;
      session.replicas.set(claim.replicaId, {
        replicaId: claim.replicaId,
        nodeId,
        hostId: node.hostId,
        admissionId: node.admissionId,
        state: 'starting',
        catchUpTo: session.headSeq,
        appliedSeq: claim.appliedSeq,
        stateHash: claim.stateHash,
        // It restored nothing this server gave it: a divergence is its host's fault (quarantine), not a snapshot's.
        restoredFrom: null,
        producerId: null,
        createdAt: now,
        adopted: true,
      });
      // The claim is a status report like any other (the node's word): replicas held
      // through one server death stand at the same seq and vouch for each other at once.
      session.health.onStatus(
        claim.replicaId,
        { appliedSeq: claim.appliedSeq, stateHash: claim.stateHash, framesSent: 0, videoIdle: true },
        now,
      );
      node.replicas.set(claim.replicaId, session.id);
      adopted.push({ replicaId: claim.replicaId, headSeq: session.headSeq });
      out.push(
        log('info', 'replica adopted', {
          sessionId: session.id,
          replicaId: claim.replicaId,
          nodeId,
          appliedSeq: claim.appliedSeq,
        }),
      );
      out.push({ type: 'session-update', sessionId: session.id });
    }
    out.push({ type: 'replicas-adopted', nodeId, adopted });
  }

  /** Forgets the node and its replicas (no close is sent: it is gone); true if it was known. */
  #nodeGone(nodeId: string, reason: string, out: Out): boolean {
    const node = this.#nodes.remove(nodeId);
    if (!node) return false;
    out.push(log('warn', 'node gone', { nodeId, hostId: node.hostId, reason, replicas: node.replicas.size }));
    for (const [replicaId, sessionId] of node.replicas) {
      const session = this.#sessions.get(sessionId);
      const r = session?.replicas.get(replicaId);
      if (session && r) this.#removeReplica(session, r, 'node-gone', `node ${nodeId} gone: ${reason}`, false, out);
    }
    return true;
  }

  #refused(nodeId: string, replicaId: string, code: RefusalCode, reason: string, now: number, out: Out): void {
    const { session, replica } = this.ownedReplica(nodeId, replicaId);
    out.push(log('warn', 'node refused a replica', { sessionId: session.id, replicaId, nodeId, code, reason }));
    const node = this.#nodes.get(nodeId);
    // It will never run this app version: stop offering it there. A transient refusal only re-places.
    if (node && isPermanentRefusal(code)) {
      const { app } = session.meta;
      node.apps = node.apps.filter((a) => !(a.name === app.name && a.hash === app.hash));
      if (isPublishedApp(app)) node.refusedBundles = [...node.refusedBundles, app.hash];
    }
    this.#removeReplica(session, replica, 'refused', `refused by node: ${reason}`, false, out);
    this.#reconcile(session, now, out);
  }

  /**
   * The app failed in a running replica. One host's report only replaces that
   * replica, at once; replicas on `appFailureQuorum` distinct hosts failing at
   * the same seq make it the app's failure: the session stops placing and
   * keeps its log and snapshots for export and close. In cluster mode this
   * server only relays the failure (health board): the leader counts hosts
   * over every server and writes the failed state into the placement table.
   */
  #appFailed(nodeId: string, replicaId: string, failure: AppFailure, now: number, out: Out): void {
    const { session, replica } = this.ownedReplica(nodeId, replicaId);
    if (failure.seq > session.headSeq) {
      throw new BadRequestError(`replica reports a failure at seq ${failure.seq} beyond head ${session.headSeq}`, {
        replicaId,
        headSeq: session.headSeq,
      });
    }
    const ctx = { sessionId: session.id, replicaId, nodeId, hostId: replica.hostId, ...failure };
    out.push(log('warn', 'the app failed in a replica', ctx));
    const why = `the app failed at input ${failure.seq}: ${failure.reason}`;
    this.#removeReplica(session, replica, 'app-failed', why, false, out);
    if (session.appFailure) return;
    if (this.#fromTable) {
      // Cluster mode: the hosts are counted cluster-wide by the leader (health board → placement table).
      session.noteRelayedAppFailure({ replicaId, nodeId, hostId: replica.hostId, ...failure });
      out.push({ type: 'session-update', sessionId: session.id });
      this.#reconcile(session, now, out);
      return;
    }
    const quorum = appFailureQuorum(session.meta.replicationFactor);
    if (session.noteAppFailure(replica.hostId, failure, quorum)) {
      out.push(
        log('error', 'the app failed deterministically: the session stops placing replicas', { ...ctx, quorum }),
      );
      out.push({ type: 'session-update', sessionId: session.id });
      return;
    }
    this.#reconcile(session, now, out);
  }

  // ------------------------------------------------------------------ replicas

  #status(e: Extract<SessionCoreEvent, { type: 'replica-status' }>, now: number, out: Out): void {
    const { session, replica } = this.ownedReplica(e.nodeId, e.replicaId);
    if (e.status.appliedSeq > session.headSeq) {
      throw new BadRequestError(`replica reports seq ${e.status.appliedSeq} beyond head ${session.headSeq}`, {
        replicaId: e.replicaId,
        headSeq: session.headSeq,
      });
    }
    session.health.onStatus(e.replicaId, e.status, now);
    replica.appliedSeq = e.status.appliedSeq;
    replica.stateHash = e.status.stateHash;
    if (noteSelection(replica, e.status.appliedSeq, e.selection)) {
      out.push({
        type: 'selection',
        sessionId: session.id,
        replicaId: e.replicaId,
        seq: e.status.appliedSeq,
        selection: e.selection,
      });
    }
    this.#maybeLive(session, replica, out);
  }

  #maybeLive(session: Session, r: ReplicaRecord, out: Out): void {
    if (r.adopted && r.state === 'catching-up') {
      // A held replica's state is its node's claim: trusted only once the hash majority agrees.
      if (!adoptionVouched(r.replicaId, session.health.hashReports(), session.activeReplicas().length)) return;
      r.adopted = false;
    }
    if (r.state === 'catching-up' && r.producerId !== null && r.appliedSeq >= r.catchUpTo) {
      r.state = 'live';
      out.push(log('info', 'replica live', { sessionId: session.id, replicaId: r.replicaId, seq: r.appliedSeq }));
      out.push({ type: 'session-update', sessionId: session.id });
    }
  }

  #reconcileAll(now: number, out: Out): void {
    for (const s of this.#sessions.values()) this.#reconcile(s, now, out);
  }

  /** Places replicas until the session has R on distinct hosts and admissions (or none is left). */
  #reconcile(session: Session, now: number, out: Out): void {
    if (session.closed) return;
    if (this.#fromTable) return this.#reconcileTable(session, now, out);
    // A failed app fails again on the same input wherever it runs: nothing is placed for it.
    if (session.appFailure) return;
    const waitUntil = this.#awaitingNodes.get(session.id);
    if (waitUntil !== undefined) {
      if (now < waitUntil) return;
      this.#awaitingNodes.delete(session.id);
    }
    const active = session.activeReplicas();
    const want = replicasToAdd(active.length, session.meta.replicationFactor);
    if (want === 0) return;
    const plan = planPlacement(this.#nodes.views(), {
      sessionId: session.id,
      app: session.meta.app,
      want,
      excludeHosts: [...active.map((r) => r.hostId), ...session.quarantinedHosts],
      excludeAdmissions: active.map((r) => r.admissionId),
    });
    for (const view of plan.chosen) {
      const node = this.#nodes.get(view.nodeId);
      if (node) this.#place(session, node, session.nextReplicaId(), now, out);
    }
    if (plan.shortBy > 0) {
      out.push(
        log('warn', 'replication factor not met', {
          sessionId: session.id,
          shortBy: plan.shortBy,
          reasons: plan.reasons,
        }),
      );
    }
    out.push({ type: 'session-update', sessionId: session.id });
  }

  get #fromTable(): boolean {
    return this.#options.placement === 'table';
  }

  #named(sessionId: string, replicaId: string, nodeId: string): boolean {
    return this.#placed.get(sessionId)?.get(replicaId) === nodeId;
  }

  #placement(
    sessionId: string,
    replicas: ReadonlyArray<{ replicaId: string; nodeId: string }> | null,
    appFailure: AppFailure | null,
    now: number,
    out: Out,
  ): void {
    if (replicas === null) this.#placed.delete(sessionId);
    else this.#placed.set(sessionId, new Map(replicas.map((r) => [r.replicaId, r.nodeId])));
    const session = this.#sessions.get(sessionId);
    if (!session) return;
    if (appFailure && !session.appFailure) {
      // The leader counted a quorum of hosts cluster-wide: enforced here as on a single server.
      session.appFailure = appFailure;
      out.push(
        log('error', 'the app failed deterministically (cluster quorum): the session stops placing replicas', {
          sessionId,
          ...appFailure,
        }),
      );
      out.push({ type: 'session-update', sessionId });
    }
    // A failure is reported until the leader has dropped (or moved) the replica (it counted an app failure then).
    for (const f of [...session.failed.values()]) {
      if (!this.#named(sessionId, f.replicaId, f.nodeId)) session.failed.delete(f.replicaId);
    }
    for (const f of [...session.relayedAppFailures.values()]) {
      if (!this.#named(sessionId, f.replicaId, f.nodeId)) session.relayedAppFailures.delete(f.replicaId);
    }
    this.#reconcile(session, now, out);
  }

  /**
   * Cluster mode: runs exactly what the table names on nodes registered here
   * (the leader chose the ids, hosts and home servers) and closes what it no
   * longer names. A replica given up here is not rebuilt: it stays reported
   * in `failed` until the leader places it elsewhere.
   */
  #reconcileTable(session: Session, now: number, out: Out): void {
    const named = this.#placed.get(session.id) ?? new Map<string, string>();
    let changed = false;
    for (const r of session.activeReplicas()) {
      if (named.get(r.replicaId) === r.nodeId) continue;
      this.#removeReplica(session, r, 'closed', 'the placement table no longer names it here', true, out);
      changed = true;
    }
    for (const [replicaId, nodeId] of session.appFailure ? [] : named) {
      const node = this.#nodes.get(nodeId);
      if (!node || session.replicas.has(replicaId) || session.failed.has(replicaId)) continue;
      if (session.quarantinedHosts.has(node.hostId)) continue;
      session.noteReplicaId(replicaId);
      this.#place(session, node, replicaId, now, out);
      changed = true;
    }
    if (changed) out.push({ type: 'session-update', sessionId: session.id });
  }

  /** Starts replica `replicaId` of the session on `node`, from the latest snapshot and the log. */
  #place(session: Session, node: NodeRecord, replicaId: string, now: number, out: Out): void {
    session.replicas.set(replicaId, {
      replicaId,
      nodeId: node.nodeId,
      hostId: node.hostId,
      admissionId: node.admissionId,
      state: 'starting',
      catchUpTo: session.headSeq,
      appliedSeq: 0,
      stateHash: null,
      restoredFrom: session.snapshot?.seq ?? null,
      producerId: null,
      createdAt: now,
    });
    session.health.track(replicaId, now);
    node.replicas.set(replicaId, session.id);
    out.push({
      type: 'create-replica',
      nodeId: node.nodeId,
      assignment: {
        replicaId,
        sessionId: session.id,
        app: session.meta.app,
        width: session.meta.width,
        height: session.meta.height,
        headSeq: session.headSeq,
        snapshot: session.snapshot,
      },
    });
    out.push(log('info', 'replica placed', { sessionId: session.id, replicaId, nodeId: node.nodeId }));
  }

  #removeReplica(
    session: Session,
    r: ReplicaRecord,
    cause: RemovalCause,
    reason: string,
    tellNode: boolean,
    out: Out,
  ): void {
    const node = this.#nodes.get(r.nodeId);
    node?.replicas.delete(r.replicaId);
    const failure = failureOf(cause, r);
    if (this.#fromTable && failure) {
      session.failed.set(r.replicaId, { replicaId: r.replicaId, nodeId: r.nodeId, hostId: r.hostId, cause: failure });
    }
    if (tellNode && node) out.push({ type: 'close-replica', nodeId: r.nodeId, replicaId: r.replicaId, reason });
    session.closeReplica(r.replicaId);
    out.push({ type: 'replica-removed', sessionId: session.id, replicaId: r.replicaId, cause, reason });
  }

  // ------------------------------------------------------------------ health

  #tick(now: number, out: Out): void {
    for (const [sessionId, until] of this.#awaitingNodes) {
      const session = this.#sessions.get(sessionId);
      if (!session) this.#awaitingNodes.delete(sessionId);
      else if (now >= until) this.#reconcile(session, now, out);
    }
    let lost = false;
    for (const node of this.#nodes.all()) {
      if (now - node.lastHeartbeatAt > this.#options.nodeDeadAfterMs) {
        out.push({ type: 'disconnect-node', nodeId: node.nodeId, reason: 'heartbeat timeout' });
        lost = this.#nodeGone(node.nodeId, `no heartbeat for ${now - node.lastHeartbeatAt} ms`, out) || lost;
      }
    }
    if (lost) this.#reconcileAll(now, out);
    for (const session of this.#sessions.values()) {
      let changed = false;
      for (const a of session.health.assessAll(now)) {
        const r = session.replicas.get(a.replicaId);
        if (r && a.verdict === 'dead') {
          this.#removeReplica(session, r, 'unresponsive', `no status for ${a.health.heartbeatAgeMs} ms`, true, out);
          changed = true;
        }
      }
      changed = this.#voteOnState(session, out) || changed;
      if (changed) this.#reconcile(session, now, out);
      else out.push({ type: 'session-update', sessionId: session.id });
      this.#maybeRequestSnapshot(session, now, out);
    }
  }

  /** Majority vote on state hashes at a common seq; the minority is quarantined and replaced. */
  #voteOnState(session: Session, out: Out): boolean {
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
      out.push({ type: 'divergence', ...event });
      if (this.#blameSnapshot(session, r, out)) {
        const why = `diverged after restoring snapshot ${r.restoredFrom}; restarting from the one before`;
        this.#removeReplica(session, r, 'diverged', why, true, out);
        continue;
      }
      out.push(log('error', 'replica diverged from the majority: quarantined and replaced', event));
      session.quarantinedHosts.add(r.hostId);
      r.state = 'quarantined';
      const why = `quarantined: state hash ${hash} at seq ${vote.seq} disagrees with majority ${vote.majorityHash}`;
      this.#removeReplica(session, r, 'diverged', why, true, out);
    }
    return true;
  }

  /**
   * A replica that diverged right after restoring the latest snapshot may be an
   * honest host fed bad state: the snapshot is dropped (its log tail is still
   * there) and the session falls back to the previous one. True when the
   * snapshot took the blame, so the host is not quarantined for it.
   */
  #blameSnapshot(session: Session, r: ReplicaRecord, out: Out): boolean {
    const from = r.restoredFrom;
    if (from === null || session.snapshot?.seq !== from || from <= session.compactedThrough) return false;
    const previous = session.previousSnapshot;
    session.snapshot = previous;
    // What was before the previous one is truncated already: there is no fallback behind it.
    session.previousSnapshot = null;
    out.push({ type: 'drop-snapshot', sessionId: session.id, seq: from, fallbackSeq: previous?.seq ?? null });
    out.push(
      log(
        'error',
        'a replica restored from the latest snapshot diverged: snapshot dropped, falling back to the previous one',
        { sessionId: session.id, replicaId: r.replicaId, hostId: r.hostId, badSeq: from, fallback: previous?.seq ?? 0 },
      ),
    );
    return true;
  }

  // ------------------------------------------------------------------ snapshots

  /**
   * Every `snapshotEvery` inputs, ask every healthy live replica for its state
   * at the current head; see #snapshotAnswer for how the answers are trusted. A
   * checkpoint that found no quorum in time is dropped and a new one asked.
   */
  #maybeRequestSnapshot(session: Session, now: number, out: Out): void {
    // Cluster mode: one server's replicas are no quorum; the leader runs checkpoints cluster-wide.
    if (this.#fromTable) return;
    if (session.storing) return;
    const pending = session.checkpoint;
    if (pending) {
      if (now - pending.requestedAt < this.#options.checkpointTimeoutMs) return;
      out.push(log('warn', 'snapshot checkpoint found no quorum in time; dropped', { sessionId: session.id }));
      session.checkpoint = null;
    }
    const since = session.headSeq - (session.snapshot?.seq ?? 0);
    if (since < this.#options.snapshotEvery) return;
    const targets = session
      .activeReplicas()
      .filter((r) => r.state === 'live' && session.health.assess(r.replicaId, now)?.verdict === 'healthy');
    if (new Set(targets.map((r) => r.hostId)).size < snapshotQuorum(session.meta.replicationFactor)) return;
    const seq = session.headSeq;
    session.checkpoint = new SnapshotCheckpoint(seq, targets, session.meta.replicationFactor, now);
    for (const r of targets) out.push({ type: 'ask-snapshot', nodeId: r.nodeId, replicaId: r.replicaId, seq });
  }

  /**
   * A replica's answer to a checkpoint. Nothing is stored on one node's word:
   * the bytes must match the hash the replica claims, the replica must have
   * been asked for this seq, and the snapshot is stored only once replicas on a
   * majority of the session's hosts report the same hash at that seq.
   */
  #snapshotAnswer(e: Extract<SessionCoreEvent, { type: 'snapshot-answer' }>, out: Out): void {
    const { session, replica } = this.ownedReplica(e.nodeId, e.replicaId);
    const ctx = { sessionId: session.id, replicaId: e.replicaId, nodeId: e.nodeId, hostId: replica.hostId, seq: e.seq };
    const checkpoint = session.checkpoint;
    if (!checkpoint?.asked(e.replicaId)) {
      throw new ForbiddenError('unsolicited snapshot: the server did not ask this replica for one', {
        ...ctx,
        refusal: 'unsolicited',
      });
    }
    if (stateHashOf(e.data) !== e.stateHash) {
      throw new ConflictError('snapshot bytes do not match the claimed state hash', {
        ...ctx,
        refusal: 'hash-mismatch',
      });
    }
    if (e.seq > session.headSeq) throw new BadRequestError(`snapshot seq ${e.seq} is beyond the head`, ctx);
    if (this.#fromTable) {
      // The leader decides across servers (server/cluster/checkpoint-leader.ts); this server only relays.
      checkpoint.report(e.replicaId, e.seq, e.stateHash, e.data);
      const { replicaId, seq, stateHash, data } = e;
      out.push({
        type: 'checkpoint-answer',
        sessionId: session.id,
        replicaId,
        hostId: replica.hostId,
        seq,
        stateHash,
        data,
      });
      return;
    }
    checkpoint.report(e.replicaId, e.seq, e.stateHash, e.data);
    const decision = checkpoint.decision();
    if (!decision) return;
    session.checkpoint = null;
    const store = !(session.snapshot && decision.seq <= session.snapshot.seq);
    out.push({ type: 'checkpoint-decided', sessionId: session.id, seq: decision.seq, hosts: decision.hosts, store });
    if (!store) return;
    session.storing = {
      seq: decision.seq,
      stateHash: decision.stateHash,
      bytes: decision.data.length,
      phase: 'snapshot',
    };
    out.push({ type: 'store-snapshot', sessionId: session.id, ...decision });
  }

  /**
   * Cluster mode: the leader's checkpoint at `seq`. Every live replica here is
   * asked (the leader counts hosts across servers); a newer request replaces
   * an older one, and one already asked is asked again only after the timeout.
   */
  #checkpointWanted(sessionId: string, seq: number, now: number, out: Out): void {
    const session = this.#sessions.get(sessionId);
    if (!session || !this.#fromTable) return;
    const asked = session.checkpoint;
    // Asked again after the timeout (the leader dropped it without quorum): answers may have been lost, ask anew.
    if (asked && asked.seq >= seq && now - asked.requestedAt < this.#options.checkpointTimeoutMs) return;
    if (session.snapshot && session.snapshot.seq >= seq) return;
    const targets = session.activeReplicas().filter((r) => r.state === 'live' || r.state === 'catching-up');
    if (targets.length === 0) return;
    session.checkpoint = new SnapshotCheckpoint(seq, targets, session.meta.replicationFactor, now);
    for (const r of targets) out.push({ type: 'ask-snapshot', nodeId: r.nodeId, replicaId: r.replicaId, seq });
  }

  /** The write is durable: replicas may be pointed at it; the log is truncated behind the previous one. */
  #snapshotStored(sessionId: string, seq: number, out: Out): void {
    const session = this.#sessions.get(sessionId);
    const storing = session?.storing;
    if (!session || storing?.seq !== seq || storing.phase !== 'snapshot') return;
    const previous = session.snapshot;
    session.snapshot = { seq, stateHash: storing.stateHash };
    // The previous confirmed snapshot and its log tail stay: the fallback if this one turns out bad.
    session.previousSnapshot = previous;
    if (!previous) {
      session.storing = null;
      out.push({ type: 'snapshot-announced', sessionId, seq, bytes: storing.bytes, truncated: 0 });
      return;
    }
    storing.phase = 'truncate';
    out.push({ type: 'truncate-log', sessionId, throughSeq: previous.seq });
  }

  #logTruncated(sessionId: string, throughSeq: number, truncated: number, out: Out): void {
    const session = this.#sessions.get(sessionId);
    const storing = session?.storing;
    if (!session || storing?.phase !== 'truncate') return;
    session.compactedThrough = Math.max(session.compactedThrough, throughSeq);
    session.storing = null;
    out.push({ type: 'snapshot-announced', sessionId, seq: storing.seq, bytes: storing.bytes, truncated });
  }
}

/** What the adoption rule needs to know of one session (a snapshot; planAdoption does not touch it). */
function adoptionView(s: Session): AdoptionSessionView {
  return {
    sessionId: s.id,
    open: !s.closed,
    app: s.meta.app,
    replicationFactor: s.meta.replicationFactor,
    headSeq: s.headSeq,
    active: s.activeReplicas().map((r) => ({ replicaId: r.replicaId, hostId: r.hostId, admissionId: r.admissionId })),
    quarantinedHosts: [...s.quarantinedHosts],
  };
}

/** What a removal tells the leader (cluster mode), or null when the replica did not fail (closed, node gone). */
function failureOf(cause: RemovalCause, r: ReplicaRecord): ReplicaFailureCause | null {
  switch (cause) {
    case 'unresponsive':
    case 'refused':
      return cause;
    // The leader places it elsewhere (the host is not to blame: the same input may fail everywhere).
    case 'app-failed':
      return 'refused';
    // Quarantined: its host's fault. Otherwise the snapshot it restored took the blame: start it elsewhere afresh.
    case 'diverged':
      return r.state === 'quarantined' ? 'diverged' : 'refused';
    case 'node-gone':
    case 'closed':
      return null;
  }
}

function log(level: 'info' | 'warn' | 'error', msg: string, ctx: Record<string, unknown>): SessionCoreCommand {
  return { type: 'log', level, msg, ctx };
}
