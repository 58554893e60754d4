// How long a new replica takes to catch up on a long input log: a Replica
// (withoutVideo) whose fetchInputs reads a real SqliteInputLog file in
// maxFetchBatch ranges, as a node's inputs.fetch would, minus the socket.
// Also: reading the same log from SQLite alone. Usage: tsx bench/catch-up.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { NO_MODS, type InputEvent } from '../protocol/input.js';
import { LIMITS } from '../protocol/limits.js';
import { getApp } from '../render/apps/index.js';
import type { AppendRequest } from '../server/input-log.js';
import { SqliteInputLog } from '../server/sqlite-input-log.js';
import { createBenchReplica } from './lib/bench-replica.js';
import { collector, formatResult, isMain, round, type BenchResult } from './lib/report.js';

const SIZES = [10_000, 100_000] as const;
const INSERT_CHUNK = 5000;
const TYPED = 'the quick brown fox jumps over the lazy dog ';
/** A typist presses Enter about every this many characters. */
const PARAGRAPH_CHARS = 60;

/**
 * Event i of a typing session: key down / key up pairs, an Enter every
 * PARAGRAPH_CHARS characters (so paragraphs stay the size people write).
 */
function typingEvent(i: number): InputEvent {
  const press = Math.floor(i / 2);
  const action = i % 2 === 0 ? 'down' : 'up';
  if (press % PARAGRAPH_CHARS === PARAGRAPH_CHARS - 1) {
    return { type: 'key', action, key: 'Enter', code: 'Enter', mods: NO_MODS };
  }
  const ch = TYPED[press % TYPED.length] ?? ' ';
  return action === 'down'
    ? { type: 'key', action, key: ch, code: '', text: ch, mods: NO_MODS }
    : { type: 'key', action, key: ch, code: '', mods: NO_MODS };
}

async function fill(log: SqliteInputLog, sessionId: string, count: number): Promise<number> {
  const started = performance.now();
  for (let from = 0; from < count; from += INSERT_CHUNK) {
    const reqs: AppendRequest[] = [];
    for (let i = from; i < Math.min(count, from + INSERT_CHUNK); i++) {
      reqs.push({ sessionId, clientId: 'typist', clientSeq: i, time: 1_700_000_000_000 + i, event: typingEvent(i) });
    }
    await log.appendBatch(reqs);
  }
  return performance.now() - started;
}

interface CatchUp {
  caughtUpMs: number;
  firstFrameMs: number;
  stateChars: number;
}

async function catchUp(log: SqliteInputLog, sessionId: string, head: number): Promise<CatchUp> {
  const app = getApp('writer');
  const started = performance.now();
  let caughtUpAt = 0;
  let frameAt = 0;
  let done: () => void = () => {};
  const finished = new Promise<void>((resolve) => (done = resolve));
  const replica = await createBenchReplica({
    id: sessionId,
    app,
    width: 1280,
    height: 720,
    headSeq: head,
    read: (from, to) => log.read(sessionId, from, to, LIMITS.maxFetchBatch),
  });
  try {
    const check = (): void => {
      if (!caughtUpAt && replica.appliedSeq >= head) caughtUpAt = performance.now();
    };
    replica.on('caughtup', check);
    replica.on('frame', (frame) => {
      check();
      if (frame.seq >= head && !frameAt) {
        frameAt = performance.now();
        done();
      }
    });
    check();
    await finished;
    const state = replica.state as { text?: unknown };
    return {
      caughtUpMs: caughtUpAt - started,
      firstFrameMs: frameAt - started,
      stateChars: typeof state.text === 'string' ? state.text.length : -1,
    };
  } finally {
    replica.close();
  }
}

export async function runCatchUp(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  const dir = mkdtempSync(join(tmpdir(), 'lockstep-bench-catchup-'));
  const log = SqliteInputLog.openFile(join(dir, 'inputs.sqlite'));
  try {
    for (const count of SIZES) {
      const sessionId = `catchup-${count}`;
      const fillMs = await fill(log, sessionId, count);
      const label = count >= 1000 ? `${count / 1000}k` : String(count);
      const r = await catchUp(log, sessionId, count);
      add({
        name: `catch-up.${label}-key-events`,
        value: round(r.caughtUpMs, 1),
        unit: 'ms',
        detail: {
          eventsPerSecond: Math.round(count / (r.caughtUpMs / 1000)),
          untilFirstFrameMs: round(r.firstFrameMs, 1),
          docChars: r.stateChars,
          fetchBatch: LIMITS.maxFetchBatch,
          insertMs: round(fillMs, 1),
          note: 'SQLite read + zod parse + apply, 1280x720 writer; down/up pairs, Enter every 60 chars',
        },
      });
      add({
        name: `catch-up.${label}-key-events.rate`,
        value: Math.round(count / (r.caughtUpMs / 1000)),
        unit: 'events/s',
      });
    }

    // The log alone: the same 100k events read back in maxFetchBatch pages.
    const count = SIZES[SIZES.length - 1] ?? 0;
    const sessionId = `catchup-${count}`;
    const started = performance.now();
    let read = 0;
    while (read < count) {
      const page = await log.read(sessionId, read + 1, count, LIMITS.maxFetchBatch);
      if (page.length === 0) break;
      read += page.length;
    }
    const ms = performance.now() - started;
    add({
      name: `catch-up.sqlite-read-${count / 1000}k`,
      value: round(ms, 1),
      unit: 'ms',
      detail: {
        events: read,
        eventsPerSecond: Math.round(read / (ms / 1000)),
        note: 'includes JSON + zod parse per row',
      },
    });
  } finally {
    await log.close();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}

if (isMain(import.meta.url)) {
  await runCatchUp((r) => console.log(formatResult(r)));
}
