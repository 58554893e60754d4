// Durable appends per second through the Sequencer with group commit, on a real
// SQLite file (WAL, synchronous=FULL). Prints one JSON line per figure:
// { name, value, unit }. Usage: tsx bench/durable-append.ts [total] [clients]
// bench/run.ts calls runDurableAppend() for the same figures as BenchResults.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NO_MODS, type InputEvent } from '../protocol/input.js';
import { Sequencer } from '../server/sequencer.js';
import { SqliteInputLog } from '../server/sqlite-input-log.js';
import { collector, isMain, round, type BenchResult } from './lib/report.js';

function event(i: number): InputEvent {
  return { type: 'pointer', action: 'move', x: i % 1000, y: (i * 7) % 700, button: 0, buttons: 0, mods: NO_MODS };
}

interface Outcome {
  perSecond: number;
  flushes: number;
  meanBatch: number;
}

/**
 * `window` = inputs a client may have unacknowledged: 1 is a viewer that waits
 * for every ack (worst case for batching), larger values model pipelined input.
 */
async function run(total: number, clients: number, window: number, maxBatch?: number): Promise<Outcome> {
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-'));
  const log = SqliteInputLog.openFile(join(dir, 'bench.sqlite'));
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
          await sequencer.submit({ sessionId: `session-${c % 2}`, clientId, clientSeq, event: event(clientSeq) });
        }
      };
      await Promise.all(Array.from({ length: window }, lane));
    }),
  );
  const elapsed = (performance.now() - started) / 1000;
  await sequencer.close();
  await log.close();
  rmSync(dir, { recursive: true, force: true });
  return { perSecond: (perClient * clients) / elapsed, flushes, meanBatch: flushes ? batched / flushes : 0 };
}

export interface DurableAppendOptions {
  /** Inputs per run (default 20,000). */
  total?: number;
  /** Concurrent clients (default 10). */
  clients?: number;
}

export async function runDurableAppend(
  onResult: (r: BenchResult) => void = () => {},
  options: DurableAppendOptions = {},
): Promise<BenchResult[]> {
  const total = options.total ?? 20_000;
  const clients = options.clients ?? 10;
  const { add, results } = collector(onResult);
  const put = (name: string, value: number, unit: string, detail?: BenchResult['detail']): void =>
    add(detail ? { name, value: round(value), unit, detail } : { name, value: round(value), unit });

  const interactive = await run(total, clients, 1);
  put(`durable-append.group-commit.${clients}-clients.1-in-flight`, interactive.perSecond, 'appends/s', {
    inputs: total,
    flushes: interactive.flushes,
  });
  put(`durable-append.group-commit.${clients}-clients.1-in-flight.mean-batch`, interactive.meanBatch, 'inputs/flush');

  const pipelined = await run(total, clients, 32);
  put(`durable-append.group-commit.${clients}-clients.32-in-flight`, pipelined.perSecond, 'appends/s', {
    inputs: total,
    flushes: pipelined.flushes,
  });
  put(`durable-append.group-commit.${clients}-clients.32-in-flight.mean-batch`, pipelined.meanBatch, 'inputs/flush');

  // Baseline without group commit: one fsync per input.
  const singleTotal = Math.min(total, 2000);
  const single = await run(singleTotal, 1, 1, 1);
  put('durable-append.no-group-commit.1-client', single.perSecond, 'appends/s', { inputs: singleTotal });
  return results;
}

if (isMain(import.meta.url)) {
  // CLI: one JSON line per figure, { name, value, unit }, as before.
  await runDurableAppend(
    (r) => process.stdout.write(`${JSON.stringify({ name: r.name, value: r.value, unit: r.unit })}\n`),
    { total: Number(process.argv[2] ?? 20_000), clients: Number(process.argv[3] ?? 10) },
  );
}
