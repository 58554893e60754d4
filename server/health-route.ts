// GET /healthz: whether this server can take inputs now. It cannot while its
// durable flushes fail (a full disk, etcd refusing writes) or while the store
// cannot serve (etcd unreachable or without quorum: a linearizable read needs a
// quorum leader). Both recover by themselves; so does this answer.
import type { RequestHandler } from 'express';
import type { HealthReport } from '../protocol/rest.js';
import type { DurabilityWatch } from './durability-watch.js';
import type { InputLog } from './input-log.js';
import type { StalledFeed } from './cluster/feed-recovery-types.js';

export function healthRoute(deps: {
  durability: DurabilityWatch;
  inputLog: InputLog;
  /** The store in words, without credentials or paths (describeStore). */
  store: string;
  counts: () => { sessions: number; nodes: number };
  /**
   * Cluster mode: sessions whose input feed emits nothing here now (a corrupt
   * input, or a truncation being recovered). Counted, not failing the check:
   * the server still takes inputs, and its other sessions are served.
   */
  stalledFeeds?: () => readonly StalledFeed[];
}): RequestHandler {
  return async (_req, res) => {
    const d = deps.durability.state();
    const storeError = await deps.inputLog.ping().then(
      () => null,
      (err: unknown) => (err instanceof Error ? err.message : String(err)),
    );
    const ok = d.ok && storeError === null;
    const stalled = deps.stalledFeeds?.() ?? [];
    const body: HealthReport = {
      ok,
      ...(ok
        ? {}
        : {
            reason:
              storeError !== null
                ? `the store cannot serve now (${deps.store}): ${storeError}`
                : `durable writes failing since ${new Date(d.failingSince ?? 0).toISOString()}: ${d.lastError ?? 'unknown error'}`,
          }),
      store: deps.store,
      ...deps.counts(),
      ...(stalled.length > 0
        ? {
            stalledFeeds: {
              sessions: stalled.length,
              corrupt: stalled.filter((f) => f.reason === 'corrupt').length,
              recovering: stalled.filter((f) => f.recovering).length,
              since: new Date(Math.min(...stalled.map((f) => f.since))).toISOString(),
            },
          }
        : {}),
      durableWrites: !d.ok
        ? { ok: false, failingSince: new Date(d.failingSince ?? 0).toISOString(), error: d.lastError }
        : storeError !== null
          ? { ok: false, error: storeError }
          : { ok: true },
    };
    res.status(ok ? 200 : 503).json(body);
  };
}
