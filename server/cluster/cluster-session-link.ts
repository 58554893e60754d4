// Joins this server's session manager to the cluster plumbing (ClusterMember):
// sessions created or closed on any server (the session watch) are opened or
// forgotten here, and the nodes connected to this server are published in the
// node directory under this server's lease, homed here. Placement is the
// leader's (PlacementLeader, over every server's nodes): this server follows
// the placement table and runs exactly the replicas it names on nodes
// connected here, and reports its replicas' health (and those it gave up) on
// the health board, so the leader re-places what fails here and counts app
// failures cluster-wide (the failed state comes back in the table). Inputs reach
// this server's replicas from the InputFeed (whatever server appended them,
// in log order), not from this server's sequencer, which still appends; a
// feed that stalls is recovered (or listed as stalled) by FeedRecovery.
// The leader's rehome directive for a node connected here is relayed to it
// (the node checks it with the target server before it moves).
import { getLogger } from '../../protocol/logger.js';
import type { SessionManager } from '../session-manager.js';
import type { RehomeDirective, SessionPlacement } from '../../protocol/cluster-state.js';
import type { ClusterMember } from './cluster-member.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { InputLog } from '../input-log.js';
import { CheckpointLeader } from './checkpoint-leader.js';
import { CheckpointRelay } from './checkpoint-relay.js';
import { FeedRecovery } from './feed-recovery.js';
import type { StalledFeed } from './feed-recovery-types.js';

const log = getLogger('cluster-session-link');

export class ClusterSessionLink {
  readonly #manager: SessionManager;
  readonly #member: ClusterMember;
  readonly #serverId: string;
  /** Node ids this server published: those gone from the manager are unpublished. */
  readonly #published = new Set<string>();
  readonly #onNodes = (): void => this.#publishNodes();
  readonly #onTable = (sessionId: string, p: SessionPlacement | null): void =>
    this.#manager.applyPlacement(sessionId, p?.replicas ?? null, p?.appFailure ?? null);
  readonly #onDirective = (d: RehomeDirective): void => this.#relayDirective(d);
  readonly #onUpdate = ({ sessionId }: { sessionId: string }): void => this.#reportHealth(sessionId);
  readonly #onClosed = ({ sessionId }: { sessionId: string }): void =>
    this.#guard('forget health report', this.#member.health.forget(sessionId));
  /** A feed that stalls on a truncation resumes from the latest snapshot; a corrupt input stays stalled, listed. */
  readonly #recovery: FeedRecovery;
  /** The cluster-wide snapshot checkpoint: this server's relay, and the leader's side (idle unless it leads). */
  #relay: CheckpointRelay | null = null;
  #checkpoints: CheckpointLeader | null = null;
  #unsweep: () => void = () => undefined;
  #closed = false;

  private constructor(manager: SessionManager, member: ClusterMember, serverId: string) {
    this.#manager = manager;
    this.#member = member;
    this.#serverId = serverId;
    this.#recovery = new FeedRecovery({ feed: member.feed, target: manager });
  }

  /** Sessions whose input feed emits nothing here now (/healthz lists them). */
  stalledFeeds(): StalledFeed[] {
    return this.#recovery.stalled();
  }

  /** Opens what the cluster already holds, then follows it. */
  static async create(deps: {
    manager: SessionManager;
    member: ClusterMember;
    serverId: string;
    /** The shared log and checkpoint interval, for the cluster-wide checkpoint (omitted: none runs). */
    checkpoints?: { log: InputLog; snapshotEvery: number; namespace: string; secret: ClusterSecret };
  }): Promise<ClusterSessionLink> {
    const link = new ClusterSessionLink(deps.manager, deps.member, deps.serverId);
    if (deps.checkpoints) {
      const m = deps.member;
      const { namespace, secret } = deps.checkpoints;
      const common = { client: m.client, namespace, secret };
      link.#relay = await CheckpointRelay.create({
        ...common,
        registry: m.registry,
        manager: deps.manager,
        log: deps.checkpoints.log,
      });
      link.#checkpoints = await CheckpointLeader.create({
        ...common,
        election: m.election,
        writer: m.writer,
        placement: m.placement,
        nodes: m.nodes,
        log: deps.checkpoints.log,
        snapshotEvery: deps.checkpoints.snapshotEvery,
        replicationFactor: (id) => deps.manager.sessions.get(id)?.meta.replicationFactor ?? null,
      });
      const checkpoints = link.#checkpoints;
      // The leader's upkeep also deletes relayed bytes no checkpoint reads again.
      link.#unsweep = m.upkeep.addSweep('superseded checkpoint chunks', () => checkpoints.sweepSuperseded());
    }
    const { sessions, feed } = deps.member;
    const { manager } = deps;
    manager.fanOutFrom(feed);
    manager.on('sessionopened', ({ sessionId, headSeq }) => {
      if (!feed.sessions().has(sessionId)) link.#guard('follow', feed.add(sessionId, headSeq));
    });
    manager.on('sessionclosed', ({ sessionId }) => {
      link.#recovery.forget(sessionId);
      link.#guard('unfollow', feed.remove(sessionId));
    });
    for (const s of manager.sessions.values()) await feed.add(s.id, s.headSeq);
    sessions.on('created', (row) => link.#guard('open', deps.manager.openStoredSession(row)));
    sessions.on('closed', (id) => link.#guard('forget', deps.manager.forgetSession(id)));
    for (const row of sessions.list()) await deps.manager.openStoredSession(row);
    deps.manager.on('nodeschanged', link.#onNodes);
    link.#publishNodes();
    // The leader's table decides what runs here; the health board tells it how that goes.
    deps.member.placement.on('changed', link.#onTable);
    for (const p of deps.member.placement.list()) manager.applyPlacement(p.sessionId, p.replicas, p.appFailure ?? null);
    manager.on('sessionupdate', link.#onUpdate);
    manager.on('replicaremoved', link.#onUpdate);
    manager.on('sessionclosed', link.#onClosed);
    deps.member.rehome.on('issued', link.#onDirective);
    for (const d of deps.member.rehome.list()) link.#relayDirective(d);
    return link;
  }

  #guard(what: string, p: Promise<unknown>): void {
    p.catch((err: unknown) => log.error({ err, what }, 'cluster session event not applied'));
  }

  /** The directory coalesces rapid updates per node, so every change may publish. */
  #publishNodes(): void {
    if (this.#closed) return;
    const views = this.#manager.nodes.views();
    const now = new Set(views.map((v) => v.nodeId));
    for (const view of views) {
      this.#published.add(view.nodeId);
      this.#guard(
        'publish',
        this.#member.nodes.publish({
          ...view,
          apps: [...view.apps],
          warmBundles: [...view.warmBundles],
          refusedBundles: [...view.refusedBundles],
          appPolicy:
            view.appPolicy.kind === 'hashes' ? { kind: 'hashes', hashes: [...view.appPolicy.hashes] } : view.appPolicy,
          homeServerId: this.#serverId,
        }),
      );
    }
    for (const id of [...this.#published]) {
      if (now.has(id)) continue;
      this.#published.delete(id);
      this.#guard('unpublish', this.#member.nodes.unpublish(id));
    }
  }

  /** A directive moving one of this server's nodes elsewhere: the node is told (it verifies with the target). */
  #relayDirective(d: RehomeDirective): void {
    if (this.#closed || d.fromServerId !== this.#serverId || d.toServerId === this.#serverId) return;
    if (Date.now() >= d.expiresAt) return;
    const node = this.#manager.nodes.get(d.nodeId);
    if (!node) return;
    log.info({ nodeId: d.nodeId, to: d.toServerId, directiveId: d.directiveId }, 'relaying rehome directive to node');
    node.notify({ type: 'node.rehome', directiveId: d.directiveId, serverId: d.toServerId, url: d.toUrl });
  }

  /** What this server runs of the session and what it gave up (coalesced by the board). */
  #reportHealth(sessionId: string): void {
    if (this.#closed) return;
    const session = this.#manager.sessions.get(sessionId);
    if (!session) return;
    this.#member.health.report({
      sessionId,
      replicas: session.activeReplicas().map((r) => ({
        replicaId: r.replicaId,
        nodeId: r.nodeId,
        state: r.state,
        appliedSeq: r.appliedSeq,
        stateHash: r.stateHash,
        watched: this.#manager.isWatched(r.producerId),
      })),
      failed: [...session.failed.values()],
      quarantinedHosts: [...session.quarantinedHosts],
      appFailures: [...session.relayedAppFailures.values()],
    });
  }

  close(): void {
    this.#closed = true;
    this.#unsweep();
    this.#guard('close checkpoint relay', this.#relay?.close() ?? Promise.resolve());
    this.#guard('close checkpoint leader', this.#checkpoints?.close() ?? Promise.resolve());
    this.#recovery.close();
    this.#manager.off('nodeschanged', this.#onNodes);
    this.#member.placement.off('changed', this.#onTable);
    this.#manager.off('sessionupdate', this.#onUpdate);
    this.#manager.off('replicaremoved', this.#onUpdate);
    this.#manager.off('sessionclosed', this.#onClosed);
    this.#member.rehome.off('issued', this.#onDirective);
  }
}
