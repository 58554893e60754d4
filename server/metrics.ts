// Operator metrics in the Prometheus text format (GET /metrics). Counters are
// fed by SessionManager and Sequencer events; gauges are read from the
// manager's live state at scrape time, so they are never stale. One registry
// per server (not prom-client's global one): tests run several servers in a
// process.
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { StalledFeed } from './cluster/feed-recovery-types.js';
import type { DurabilityWatch } from './durability-watch.js';
import type { Sequencer } from './sequencer.js';
import type { SessionBatch, FlushStats } from './sequencer-types.js';
import type { RemovalCause, SessionManager, SessionManagerEvents } from './session-manager.js';
import { REPLICA_STATES } from '../protocol/session.js';

/** Removals that force viewers onto another replica (a close or a refusal is not a failure). */
const FAILOVER_CAUSES: ReadonlySet<RemovalCause> = new Set(['node-gone', 'unresponsive', 'diverged']);

export interface MetricsSources {
  manager: SessionManager;
  sequencer: Sequencer;
  durability: DurabilityWatch;
  /** Thumbnails held in memory (optional: reported when given). */
  thumbnailCount?: () => number;
  /** Cluster mode: sessions whose input feed is stalled here (FeedRecovery). */
  stalledFeeds?: () => readonly StalledFeed[];
}

export class Metrics {
  readonly registry = new Registry();
  readonly #offs: Array<() => void> = [];

  constructor(src: MetricsSources) {
    const { manager, sequencer, durability } = src;
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'lockstep_process_' });

    // ---------------------------------------------------------------- counters
    const inputs = new Counter({
      name: 'lockstep_inputs_sequenced_total',
      help: 'Inputs durably logged by the sequencer (duplicates excluded).',
      registers,
    });
    const flushes = new Histogram({
      name: 'lockstep_sequencer_flush_seconds',
      help: 'Wall time of one durable append of an input batch.',
      buckets: [0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25],
      registers,
    });
    const removals = new Counter({
      name: 'lockstep_replica_removals_total',
      help: 'Replicas that stopped being offered, by cause.',
      labelNames: ['cause'],
      registers,
    });
    const failovers = new Counter({
      name: 'lockstep_failovers_total',
      help: 'Replica losses that moved viewers to another replica (node gone, unresponsive, diverged).',
      registers,
    });
    const divergences = new Counter({
      name: 'lockstep_divergences_total',
      help: 'Replicas whose state hash disagreed with the majority (quarantined).',
      registers,
    });
    const snapshots = new Counter({
      name: 'lockstep_snapshots_stored_total',
      help: 'State snapshots stored (each compacts the log behind it).',
      registers,
    });
    const truncated = new Counter({
      name: 'lockstep_log_rows_truncated_total',
      help: 'Input log rows removed by compaction.',
      registers,
    });
    for (const cause of ['node-gone', 'unresponsive', 'diverged', 'refused', 'closed'] as const) {
      removals.inc({ cause }, 0); // every series exists from the start: rate() works from the first scrape
    }

    const onSequenced = (batches: SessionBatch[], stats: FlushStats): void => {
      let n = 0;
      for (const b of batches) n += b.inputs.length;
      inputs.inc(n);
      flushes.observe(stats.durationMs / 1000);
    };
    sequencer.on('sequenced', onSequenced);
    this.#offs.push(() => sequencer.off('sequenced', onSequenced));
    const flushFailures = new Counter({
      name: 'lockstep_sequencer_flush_failures_total',
      help: 'Durable appends (batches) that failed: their inputs were refused, never acknowledged.',
      registers,
    });
    const onFlushFailed = (): void => flushFailures.inc();
    sequencer.on('flushFailed', onFlushFailed);
    this.#offs.push(() => sequencer.off('flushFailed', onFlushFailed));

    const onRemoved = (e: SessionManagerEvents['replicaremoved'][0]): void => {
      removals.inc({ cause: e.cause });
      if (FAILOVER_CAUSES.has(e.cause)) failovers.inc();
    };
    const onDivergence = (): void => divergences.inc();
    const onSnapshot = (e: SessionManagerEvents['snapshotstored'][0]): void => {
      snapshots.inc();
      truncated.inc(e.truncated);
    };
    manager.on('replicaremoved', onRemoved);
    manager.on('divergence', onDivergence);
    manager.on('snapshotstored', onSnapshot);
    this.#offs.push(
      () => manager.off('replicaremoved', onRemoved),
      () => manager.off('divergence', onDivergence),
      () => manager.off('snapshotstored', onSnapshot),
    );

    // ---------------------------------------------------------------- gauges (read at scrape time)
    const stalledFeeds = src.stalledFeeds;
    if (stalledFeeds) {
      new Gauge({
        name: 'lockstep_input_feed_stalled',
        help: 'Cluster mode: 1 per session whose input feed emits nothing on this server (corrupt input, or a truncation being recovered).',
        labelNames: ['session', 'reason'],
        registers,
        collect() {
          this.reset();
          for (const f of stalledFeeds()) this.set({ session: f.sessionId, reason: f.reason }, 1);
        },
      });
    }
    new Gauge({
      name: 'lockstep_durable_writes_ok',
      help: '1 while durable appends succeed; 0 from the first failed flush until one succeeds again.',
      registers,
      collect() {
        this.set(durability.state().ok ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lockstep_sessions',
      help: 'Open sessions.',
      registers,
      collect() {
        this.set(manager.sessions.size);
      },
    });
    new Gauge({
      name: 'lockstep_nodes',
      help: 'Registered renderer nodes, by state.',
      labelNames: ['state'],
      registers,
      collect() {
        this.reset();
        const byState = new Map<string, number>();
        for (const n of manager.nodes.all()) byState.set(n.state, (byState.get(n.state) ?? 0) + 1);
        for (const [state, v] of byState) this.set({ state }, v);
      },
    });
    new Gauge({
      name: 'lockstep_replicas',
      help: 'Replicas by state (all sessions).',
      labelNames: ['state'],
      registers,
      collect() {
        const byState = new Map<string, number>(REPLICA_STATES.map((s) => [s, 0]));
        for (const s of manager.sessions.values()) {
          for (const r of s.replicas.values()) byState.set(r.state, (byState.get(r.state) ?? 0) + 1);
        }
        for (const [state, v] of byState) this.set({ state }, v);
      },
    });
    new Gauge({
      name: 'lockstep_session_head_seq',
      help: 'Highest sequenced input of each session.',
      labelNames: ['session'],
      registers,
      collect() {
        this.reset();
        for (const s of manager.sessions.values()) this.set({ session: s.id }, s.headSeq);
      },
    });
    new Gauge({
      name: 'lockstep_log_rows',
      help: 'Input log rows held per session (head seq minus the compacted snapshot seq).',
      labelNames: ['session'],
      registers,
      collect() {
        this.reset();
        for (const s of manager.sessions.values()) {
          this.set({ session: s.id }, Math.max(0, s.headSeq - (s.snapshot?.seq ?? 0)));
        }
      },
    });

    // Per-stream health, one series per replica: removed replicas vanish at the
    // next scrape. The first of the three (in registration order, which is
    // scrape order) fills all three from one pass over the sessions.
    const replicaLabels = ['session', 'replica', 'host'] as const;
    const perReplica = {
      heartbeat: null as Gauge<(typeof replicaLabels)[number]> | null,
      score: null as Gauge<(typeof replicaLabels)[number]> | null,
    };
    new Gauge({
      name: 'lockstep_replica_lag_seq',
      help: 'Inputs the replica has yet to apply (session head minus applied seq).',
      labelNames: replicaLabels,
      registers,
      collect() {
        this.reset();
        perReplica.heartbeat?.reset();
        perReplica.score?.reset();
        for (const info of manager.list()) {
          for (const r of info.replicas) {
            const labels = { session: info.sessionId, replica: r.replicaId, host: r.hostId };
            this.set(labels, r.health.lagSeq);
            perReplica.heartbeat?.set(labels, r.health.heartbeatAgeMs / 1000);
            if (r.health.producerScore !== null) perReplica.score?.set(labels, r.health.producerScore);
          }
        }
      },
    });
    perReplica.heartbeat = new Gauge({
      name: 'lockstep_replica_heartbeat_age_seconds',
      help: 'Seconds since the replica last reported its status.',
      labelNames: replicaLabels,
      registers,
    });
    perReplica.score = new Gauge({
      name: 'lockstep_replica_producer_score',
      help: 'mediasoup producer score (0..10) of the replica stream; absent before the first score.',
      labelNames: replicaLabels,
      registers,
    });

    if (src.thumbnailCount) {
      const count = src.thumbnailCount;
      new Gauge({
        name: 'lockstep_thumbnails',
        help: 'Session thumbnails held in memory.',
        registers,
        collect() {
          this.set(count());
        },
      });
    }
  }

  get contentType(): string {
    return this.registry.contentType;
  }

  render(): Promise<string> {
    return this.registry.metrics();
  }

  close(): void {
    for (const off of this.#offs.splice(0)) off();
  }
}
