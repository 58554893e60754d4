// Durable appends per second and input→ack latency through the Sequencer with
// group commit, on a real SQLite file (WAL, synchronous=FULL) and on a real
// 3-member etcd on this machine (each commit fsynced on a majority). Prints one
// JSON line per figure: { name, value, unit }.
// Usage: tsx bench/durable-append.ts [total] [clients]
// bench/run.ts calls runDurableAppend() for the same figures as BenchResults.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NO_MODS, type InputEvent } from '../protocol/input.js';
import type { InputLog } from '../server/input-log.js';
import { EtcdCluster } from '../server/log/etcd-cluster.js';
import { EtcdInputLog } from '../server/log/etcd-input-log.js';
import { Sequencer } from '../server/sequencer.js';
import { SqliteInputLog } from '../server/sqlite-input-log.js';
import { collector, isMain, load1m, percentile, round, type BenchResult } from './lib/report.js';

function event(i: number): InputEvent {
  return { type: 'pointer', action: 'move', x: i % 1000, y: (i * 7) % 700, button: 0, buttons: 0, mods: NO_MODS };
}

interface Outcome {
  perSecond: number;
  flushes: number;
  meanBatch: number;
  /** Submit → ack of each input (ms). */
  ackMs: number[];
}

/** A fresh, empty log and how to dispose of it. */
type OpenLog = () => Promise<{ log: InputLog; dispose: () => Promise<void> }>;

function sqliteLog(): ReturnType<OpenLog> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-'));
  const log = SqliteInputLog.openFile(join(dir, 'bench.sqlite'));
  return Promise.resolve({
    log,
    dispose: async () => {
      await log.close();
      rmSync(dir, { recursive: true, force: true });
    },
  });
}

/**
 * `window` = inputs a client may have unacknowledged: 1 is a viewer that waits
 * for every ack (worst case for batching), larger values model pipelined input.
 */
async function run(open: OpenLog, total: number, clients: number, window: number, maxBatch?: number): Promise<Outcome> {
  const { log, dispose } = await open();
  const ackMs: number[] = [];
  const sequencer = new Sequencer(maxBatch === undefined ? { log } : { log, maxBatch });
  let flushes = 0;
  let batched = 0;
  sequencer.on('sequenced', (_batches, stats) => {
    flushes++;
    batched += stats.size;
  });
  const perClient = Math.ceil(total / clients);
  const started = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async (_, c) => {
      const clientId = `client-${c}`;
      let nextSeq = 0;
      const lane = async (): Promise<void> => {
        while (nextSeq < perClient) {
          const clientSeq = nextSeq++;
          const t0 = performance.now();
          await sequencer.submit({ sessionId: `session-${c % 2}`, clientId, clientSeq, event: event(clientSeq) });
          ackMs.push(performance.now() - t0);
        }
      };
      await Promise.all(Array.from({ length: window }, lane));
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await sequencer.close();
  await dispose();
  return { perSecond: (perClient * clients) / elapsed, flushes, meanBatch: flushes ? batched / flushes : 0, ackMs };
}

export interface DurableAppendOptions {
  /** Inputs per SQLite run (default 20,000). */
  total?: number;
  /** Inputs per etcd run (default 5,000: each commit is a network round trip and a majority fsync). */
  etcdTotal?: number;
  /** Concurrent clients (default 10). */
  clients?: number;
}

type Put = (name: string, value: number, unit: string, detail?: BenchResult['detail']) => void;

/** The same three runs on one store: interactive clients, pipelined clients, and no group commit. */
async function runStore(put: Put, prefix: string, open: OpenLog, total: number, clients: number): Promise<void> {
  const interactive = await run(open, total, clients, 1);
  put(`${prefix}.group-commit.${clients}-clients.1-in-flight`, interactive.perSecond, 'appends/s', {
    inputs: total,
    flushes: interactive.flushes,
  });
  put(`${prefix}.group-commit.${clients}-clients.1-in-flight.mean-batch`, interactive.meanBatch, 'inputs/flush');
  // Input → ack as a viewer waiting for each ack sees it.
  put(`${prefix}.ack.${clients}-clients.1-in-flight.p50`, percentile(interactive.ackMs, 50), 'ms');
  put(`${prefix}.ack.${clients}-clients.1-in-flight.p99`, percentile(interactive.ackMs, 99), 'ms');

  const pipelined = await run(open, total, clients, 32);
  put(`${prefix}.group-commit.${clients}-clients.32-in-flight`, pipelined.perSecond, 'appends/s', {
    inputs: total,
    flushes: pipelined.flushes,
  });
  put(`${prefix}.group-commit.${clients}-clients.32-in-flight.mean-batch`, pipelined.meanBatch, 'inputs/flush');

  // Baseline without group commit: one durable commit per input.
  const singleTotal = Math.min(total, 2000);
  const single = await run(open, singleTotal, 1, 1, 1);
  put(`${prefix}.no-group-commit.1-client`, single.perSecond, 'appends/s', { inputs: singleTotal });
  put(`${prefix}.ack.no-group-commit.1-client.p50`, percentile(single.ackMs, 50), 'ms');
  put(`${prefix}.ack.no-group-commit.1-client.p99`, percentile(single.ackMs, 99), 'ms');
}

export async function runDurableAppend(
  onResult: (r: BenchResult) => void = () => {},
  options: DurableAppendOptions = {},
): Promise<BenchResult[]> {
  const clients = options.clients ?? 10;
  const { add, results } = collector(onResult);
  // Every figure carries the load it was measured under: fsync and commit times swing with other work.
  const put: Put = (name, value, unit, detail) =>
    add({ name, value: round(value), unit, detail: { ...detail, load1m: round(load1m()) } });

  // SQLite keeps its historical names (durable-append.*); etcd figures are durable-append.etcd.*.
  await runStore(put, 'durable-append', sqliteLog, options.total ?? 20_000, clients);

  const cluster = await EtcdCluster.create({ members: 3 });
  try {
    let n = 0;
    const etcdLog: OpenLog = async () => {
      const log = await EtcdInputLog.connect({ hosts: cluster.clientUrls, namespace: `bench-${n++}/` });
      return { log, dispose: () => log.close() };
    };
    await runStore(put, 'durable-append.etcd', etcdLog, options.etcdTotal ?? 5_000, clients);
  } finally {
    await cluster.close();
  }
  return results;
}

if (isMain(import.meta.url)) {
  // CLI: one JSON line per figure, { name, value, unit }, as before.
  await runDurableAppend(
    (r) => process.stdout.write(`${JSON.stringify({ name: r.name, value: r.value, unit: r.unit })}\n`),
    { total: Number(process.argv[2] ?? 20_000), clients: Number(process.argv[3] ?? 10) },
  );
}
