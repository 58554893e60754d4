// The leader's placement job, at the etcd edge: while this server leads, it
// feeds the pure ClusterPlacer the node directory, the live servers, the
// placement table and every home server's health reports, and writes the
// entries it changes through the table (fenced: a deposed leader's write is
// refused with NotLeaderError and the election steps down). It runs on every
// change it hears of and on a timer (the hold window of a missing node ends by
// time alone). A new term starts a new ClusterPlacer: it continues from the
// table and re-places nothing that is healthy. After a pass that changed
// nothing it takes one rebalance step (home-rebalance.ts): it directs at most
// one node at a time to move to an underloaded server, fenced
// (rehome-directives.ts), and clears the directive once the node moved.
import type { SessionPlacement } from '../../protocol/cluster-state.js';
import { getLogger } from '../../protocol/logger.js';
import { NotLeaderError } from './cluster-errors.js';
import { ClusterPlacer, type SessionHealthView } from './cluster-placement.js';
import { HomeRebalancer, type HomeRebalanceOptions, type RebalanceInput } from './home-rebalance.js';
import type { LeaderElection } from './leader-election.js';
import type { NodeDirectory } from './node-directory.js';
import type { PlacementTable } from './placement-table.js';
import type { RehomeDirectives } from './rehome-directives.js';
import type { ReplicaHealthBoard } from './replica-health-board.js';
import type { ServerRegistry } from './server-registry.js';
import type { SessionWatch } from './session-watch.js';

const log = getLogger('placement-leader');

export interface PlacementLeaderOptions {
  election: LeaderElection;
  placement: PlacementTable;
  nodes: NodeDirectory;
  registry: ServerRegistry;
  sessions: SessionWatch;
  health: ReplicaHealthBoard;
  /** ClusterPlacer's hold window for a node missing from the directory. */
  holdMs: number;
  /** A pass at least this often while leading (default 500 ms). */
  everyMs?: number;
  /** Moving nodes back to underloaded servers (left out: nodes stay where they are). */
  rebalance?: { directives: RehomeDirectives; options: HomeRebalanceOptions };
  now?: () => number;
}

export class PlacementLeader {
  readonly #o: PlacementLeaderOptions;
  readonly #now: () => number;
  #placer: ClusterPlacer;
  #rebalancer: HomeRebalancer | null;
  /** The last reason the rebalance gave for moving nothing (logged when it changes). */
  #rebalanceWhy: string | null = null;
  /**
   * What this term wrote and the table's watch has not shown back yet (null:
   * removed): a pass plans from it, never from the older entry, so nothing is
   * placed twice.
   */
  readonly #unconfirmed = new Map<string, SessionPlacement | null>();
  readonly #timer: NodeJS.Timeout;
  #soon: NodeJS.Timeout | null = null;
  #running: Promise<void> | null = null;
  #again = false;
  #closed = false;
  readonly #kick = (): void => this.#schedule();
  readonly #onElected = (): void => {
    this.#placer = new ClusterPlacer({ holdMs: this.#o.holdMs });
    this.#rebalancer = this.#newRebalancer();
    this.#unconfirmed.clear();
    this.#schedule();
  };
  readonly #onTable = (sessionId: string, p: SessionPlacement | null): void => {
    const mine = this.#unconfirmed.get(sessionId);
    if (mine === undefined) return this.#schedule();
    if (mine === null ? p === null : p !== null && p.term === mine.term && p.writtenAt === mine.writtenAt) {
      this.#unconfirmed.delete(sessionId);
    }
  };

  constructor(options: PlacementLeaderOptions) {
    this.#o = options;
    this.#now = options.now ?? Date.now;
    this.#placer = new ClusterPlacer({ holdMs: options.holdMs });
    this.#rebalancer = this.#newRebalancer();
    options.rebalance?.directives.on('issued', this.#kick);
    options.rebalance?.directives.on('cleared', this.#kick);
    options.election.on('elected', this.#onElected);
    options.placement.on('changed', this.#onTable);
    options.nodes.on('node', this.#kick);
    options.nodes.on('nodeGone', this.#kick);
    options.registry.on('changed', this.#kick);
    options.sessions.on('created', this.#kick);
    options.sessions.on('closed', this.#kick);
    options.health.on('changed', this.#kick);
    this.#timer = setInterval(this.#kick, options.everyMs ?? 500);
    this.#timer.unref();
  }

  /** Resolves when the pass running now (if any) and any it asked for are done (tests). */
  async settled(): Promise<void> {
    while (this.#running) await this.#running;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    clearInterval(this.#timer);
    if (this.#soon) clearTimeout(this.#soon);
    const o = this.#o;
    o.election.off('elected', this.#onElected);
    o.placement.off('changed', this.#onTable);
    o.nodes.off('node', this.#kick);
    o.nodes.off('nodeGone', this.#kick);
    o.registry.off('changed', this.#kick);
    o.sessions.off('created', this.#kick);
    o.sessions.off('closed', this.#kick);
    o.health.off('changed', this.#kick);
    o.rebalance?.directives.off('issued', this.#kick);
    o.rebalance?.directives.off('cleared', this.#kick);
  }

  #newRebalancer(): HomeRebalancer | null {
    return this.#o.rebalance ? new HomeRebalancer(this.#o.rebalance.options) : null;
  }

  /** Bursts of events (a server's nodes all going at once) make one pass. */
  #schedule(): void {
    if (this.#closed || this.#soon || !this.#o.election.isLeader) return;
    this.#soon = setTimeout(() => {
      this.#soon = null;
      this.#run();
    }, 20);
  }

  #run(): void {
    if (this.#running) {
      this.#again = true;
      return;
    }
    this.#running = this.#pass()
      .catch((err: unknown) => log.error({ err }, 'placement pass failed (the next one retries)'))
      .finally(() => {
        this.#running = null;
        if (this.#again) {
          this.#again = false;
          this.#run();
        }
      });
  }

  async #pass(): Promise<void> {
    const o = this.#o;
    if (this.#closed || !o.election.isLeader) return;
    const table = new Map(o.placement.list().map((p) => [p.sessionId, p]));
    // The watch may show a write back before the write's own await returns (#onTable then had nothing to match).
    for (const [sessionId, p] of [...this.#unconfirmed]) {
      const shown = table.get(sessionId) ?? null;
      if (p === null ? shown === null : shown !== null && shown.term === p.term && shown.writtenAt === p.writtenAt) {
        this.#unconfirmed.delete(sessionId);
      }
    }
    for (const [sessionId, p] of this.#unconfirmed) {
      if (p === null) table.delete(sessionId);
      else table.set(sessionId, p);
    }
    const sessions = o.sessions.list().map((row) => ({
      sessionId: row.id,
      app: row.app,
      replicationFactor: row.replicationFactor,
    }));
    const nodes = o.nodes.list();
    const servers = o.registry.list();
    const health = this.#health(sessions.map((s) => s.sessionId));
    const changes = this.#placer.plan(
      { sessions, nodes, servers: new Set(servers.map((s) => s.id)), table, health },
      this.#now(),
    );
    // Nodes move only while placement has nothing to change (and what it wrote has come back).
    if (changes.length === 0 && this.#unconfirmed.size === 0) {
      await this.#rebalance({ servers, nodes, table, health });
      return;
    }
    for (const c of changes) {
      try {
        if (c.kind === 'remove') {
          await o.placement.remove(c.sessionId);
          this.#unconfirmed.set(c.sessionId, null);
          continue;
        }
        const written = await o.placement.write(c.sessionId, c.replicas, {
          nextOrdinal: c.nextOrdinal,
          quarantinedHosts: c.quarantinedHosts,
          appFailureVotes: c.appFailureVotes,
          ...(c.appFailure ? { appFailure: c.appFailure } : {}),
        });
        if (c.appFailure && !table.get(c.sessionId)?.appFailure) {
          log.error(
            { sessionId: c.sessionId, ...c.appFailure },
            'session failed: a quorum of hosts failed at one input',
          );
        }
        this.#unconfirmed.set(c.sessionId, written);
        log.info(
          {
            sessionId: c.sessionId,
            replicas: c.replicas.map((r) => `${r.replicaId}@${r.nodeId}/${r.homeServerId}`),
            reasons: c.reasons,
          },
          'placement written',
        );
      } catch (err) {
        // Deposed: the election has stepped down; the new leader carries on from the table.
        if (err instanceof NotLeaderError) return;
        log.warn({ err, sessionId: c.sessionId }, 'placement not written (the next pass retries)');
      }
    }
  }

  /** One rebalance step: clear a finished directive or issue one (fenced), or nothing. */
  async #rebalance(input: Omit<RebalanceInput, 'directives'>): Promise<void> {
    const rb = this.#o.rebalance;
    const rebalancer = this.#rebalancer;
    if (!rb || !rebalancer) return;
    const step = rebalancer.step({ ...input, directives: rb.directives.list() }, this.#now());
    // Why nothing moves, once per change of reason (each pass would repeat it).
    const why = step.kind === 'none' ? step.why : null;
    if (why !== this.#rebalanceWhy) {
      this.#rebalanceWhy = why;
      if (why !== null) log.info({ why }, 'rebalance: no node moves');
    }
    try {
      if (step.kind === 'clear') {
        await rb.directives.clear(step.directive.nodeId);
        log.info(
          { nodeId: step.directive.nodeId, to: step.directive.toServerId, why: step.why },
          'rehome directive cleared',
        );
      } else if (step.kind === 'issue') {
        const { kind: _k, why, ...d } = step;
        const issued = await rb.directives.issue(d);
        log.info({ ...d, directiveId: issued.directiveId, why }, 'node directed to move home (rebalance)');
      }
    } catch (err) {
      if (err instanceof NotLeaderError) return;
      log.warn({ err, step: step.kind }, 'rebalance step not written (the next pass retries)');
    }
  }

  /** Every server's reports, merged per session. */
  #health(sessionIds: readonly string[]): Map<string, SessionHealthView> {
    const out = new Map<string, SessionHealthView>();
    for (const sessionId of sessionIds) {
      const reports = this.#o.health.reportsOn(sessionId);
      if (reports.length === 0) continue;
      out.set(sessionId, {
        failed: reports.flatMap((r) => r.failed),
        replicas: reports.flatMap((r) => r.replicas),
        quarantinedHosts: [...new Set(reports.flatMap((r) => r.quarantinedHosts))],
        // The server is the report's (its key is checked); the host it names is not used.
        appFailures: reports.flatMap((r) =>
          (r.appFailures ?? []).map(({ hostId: _says, ...f }) => ({ ...f, serverId: r.serverId })),
        ),
      });
    }
    return out;
  }
}
