// etcd database growth per session-hour of typing, with and without the
// leader's upkeep (compaction behind a revision window, defragmentation). One
// writer session on a fresh 3-member etcd per run: typing at 20 keys/s (key
// down + key up: 40 inputs/s, one transaction each, as the server commits
// inputs that arrive 50 ms apart), compressed in time (appended as fast as
// etcd takes them; the simulated clock is inputs / 40). Every `snapshotEvery`
// inputs a snapshot is stored and, as the session manager does, the log is
// truncated behind the previous one (which stays as the fallback).
//
// The DB size (the largest any member reports) is sampled at every upkeep
// point of the simulated clock; growth per session-hour is the least-squares
// slope of size against simulated time, × 3600: over every sample without
// upkeep (etcd keeps every revision, so growth is linear in writes), and over
// the samples right after each defragmentation in the run's second half, with
// it (the steady state once the revision window is full).
// Usage: tsx bench/etcd-growth.ts [simulatedMinutes]
import { performance } from 'node:perf_hooks';
import { NO_MODS, type InputEvent } from '../protocol/input.js';
import { openEtcdClient } from '../server/cluster/etcd-client.js';
import { FencedWriter } from '../server/cluster/fenced-writer.js';
import { LeaderElection } from '../server/cluster/leader-election.js';
import { memberDbSizes, Upkeep } from '../server/cluster/upkeep.js';
import { EtcdCluster } from '../server/log/etcd-cluster.js';
import { EtcdInputLog } from '../server/log/etcd-input-log.js';
import { collector, isMain, load1m, round, type BenchResult } from './lib/report.js';

const INPUTS_PER_SECOND = 40; // 20 keys/s, each a key down and a key up
const NS = 'growth/';
const SESSION = 'typing';

export interface EtcdGrowthOptions {
  /** Simulated typing per run in minutes (default 12). */
  minutes?: number;
  /** Snapshot every this many inputs (the server's LOCKSTEP_SNAPSHOT_EVERY default, 1000). */
  snapshotEvery?: number;
  /** Upkeep pass every this many simulated seconds (default 60: the server's 5 minutes compressed 5×). */
  upkeepEverySec?: number;
  /** Defragment every this many passes (default 2). */
  defragEvery?: number;
  /** Revisions kept behind the head (the server's default, 10 000). */
  keepRevisions?: number;
}

interface Sample {
  simSec: number;
  bytes: number;
  defragmented: boolean;
}

interface RunOutcome {
  samples: Sample[];
  inputs: number;
  wallSec: number;
  revision: number;
  /** Upkeep passes that compacted, and that defragmented. */
  compactions: number;
  defrags: number;
}

function keyEvent(i: number): InputEvent {
  const ch = String.fromCharCode(97 + ((i >> 1) % 26));
  return {
    type: 'key',
    action: i % 2 === 0 ? 'down' : 'up',
    key: ch,
    code: `Key${ch.toUpperCase()}`,
    text: ch,
    mods: NO_MODS,
  };
}

/** Least-squares slope of y over x (0 with fewer than two points). */
function slope(points: ReadonlyArray<[number, number]>): number {
  if (points.length < 2) return 0;
  const mx = points.reduce((s, [x]) => s + x, 0) / points.length;
  const my = points.reduce((s, [, y]) => s + y, 0) / points.length;
  const num = points.reduce((s, [x, y]) => s + (x - mx) * (y - my), 0);
  const den = points.reduce((s, [x]) => s + (x - mx) ** 2, 0);
  return den === 0 ? 0 : num / den;
}

async function typeSession(withUpkeep: boolean, o: Required<EtcdGrowthOptions>): Promise<RunOutcome> {
  const cluster = await EtcdCluster.create({ members: 3 });
  const client = openEtcdClient({ hosts: cluster.clientUrls, callTimeoutMs: 5000 });
  const log = await EtcdInputLog.connect({ hosts: cluster.clientUrls, namespace: NS, callTimeoutMs: 5000 });
  const election = await LeaderElection.create({ client, namespace: NS, serverId: 'bench' });
  // The schedule is driven by the simulated clock below, not by Upkeep's own timer.
  const upkeep = await Upkeep.create({
    client,
    election,
    writer: new FencedWriter(client, election),
    memberUrls: cluster.clientUrls,
    namespace: NS,
    closedSessions: () => Promise.resolve([]),
    keepRevisions: o.keepRevisions,
    everyMs: 2 ** 31 - 1,
    defragEvery: o.defragEvery,
  });
  try {
    // Under a heavily loaded machine the single candidate's term can lapse and be won back:
    // each pass waits for it, so no pass is skipped for want of a leader.
    const leading = async (): Promise<void> => {
      const deadline = Date.now() + 10_000;
      while (!election.isLeader) {
        if (Date.now() > deadline) throw new Error('the bench server did not become the cluster leader');
        await new Promise((r) => setTimeout(r, 20));
      }
    };
    await leading();
    const total = o.minutes * 60 * INPUTS_PER_SECOND;
    const upkeepEvery = o.upkeepEverySec * INPUTS_PER_SECOND;
    const samples: Sample[] = [
      { simSec: 0, bytes: Math.max(...(await memberDbSizes(cluster.clientUrls))), defragmented: false },
    ];
    let previousSnapshot: number | null = null;
    let passes = 0;
    let compactions = 0;
    let defrags = 0;
    const started = performance.now();
    for (let i = 0; i < total; i++) {
      await log.appendBatch([{ sessionId: SESSION, clientId: 'typist', clientSeq: i, time: i, event: keyEvent(i) }]);
      const seq = i + 1;
      if (seq % o.snapshotEvery === 0) {
        // A writer document's snapshot: the text typed so far plus its fixed overhead.
        const data = Buffer.alloc(2048 + (seq >> 1), 0x61);
        await log.putSnapshot({ sessionId: SESSION, seq, stateHash: `h${seq}`, data });
        if (previousSnapshot !== null) {
          await log.deleteSnapshots(SESSION, { beforeSeq: previousSnapshot });
          await log.truncateThrough(SESSION, previousSnapshot);
        }
        previousSnapshot = seq;
      }
      if (seq % upkeepEvery === 0) {
        let defragmented = false;
        if (withUpkeep) {
          passes++;
          await leading();
          const report = await upkeep.runOnce(passes % o.defragEvery === 0);
          defragmented = report.defragmented > 0;
          if (report.compactedTo !== null) compactions++;
          if (defragmented) defrags++;
        }
        const bytes = Math.max(...(await memberDbSizes(cluster.clientUrls)));
        samples.push({ simSec: seq / INPUTS_PER_SECOND, bytes, defragmented });
      }
    }
    const wallSec = (performance.now() - started) / 1000;
    const revision = Number((await client.get(`${NS}cluster/leader`).exec()).header.revision);
    return { samples, inputs: total, wallSec, revision, compactions, defrags };
  } finally {
    await upkeep.close();
    await election.close();
    await log.close();
    client.close();
    await cluster.close();
  }
}

export async function runEtcdGrowth(
  onResult: (r: BenchResult) => void = () => {},
  options: EtcdGrowthOptions = {},
): Promise<BenchResult[]> {
  const o: Required<EtcdGrowthOptions> = {
    minutes: 12,
    snapshotEvery: 1000,
    upkeepEverySec: 60,
    defragEvery: 2,
    keepRevisions: 10_000,
    ...options,
  };
  const { add, results } = collector(onResult);
  const mib = (b: number): number => round(b / (1024 * 1024), 3);
  for (const withUpkeep of [false, true]) {
    const loadBefore = load1m();
    const run = await typeSession(withUpkeep, o);
    const name = `etcd-growth.${withUpkeep ? 'with-upkeep' : 'no-upkeep'}`;
    // With upkeep: the samples right after a defragmentation in the second half of the run, when
    // the revision window (keepRevisions) has long filled and compaction keeps pace.
    const half = (o.minutes * 60) / 2;
    const fitted = withUpkeep ? run.samples.filter((s) => s.defragmented && s.simSec >= half) : run.samples;
    const perHour = slope(fitted.map((s) => [s.simSec, s.bytes])) * 3600;
    const detail = {
      simulatedMinutes: o.minutes,
      inputs: run.inputs,
      wallSeconds: round(run.wallSec, 1),
      compression: round((o.minutes * 60) / run.wallSec, 1),
      revisions: run.revision,
      fittedSamples: fitted.length,
      snapshotEvery: o.snapshotEvery,
      ...(withUpkeep
        ? {
            upkeepEverySec: o.upkeepEverySec,
            defragEvery: o.defragEvery,
            keepRevisions: o.keepRevisions,
            compactions: run.compactions,
            defrags: run.defrags,
          }
        : {}),
      startMiB: mib(run.samples[0]?.bytes ?? 0),
      endMiB: mib(run.samples.at(-1)?.bytes ?? 0),
      peakMiB: mib(Math.max(...run.samples.map((s) => s.bytes))),
      sizesMiB: run.samples.map((s) => mib(s.bytes)).join(' '),
      load1mBefore: round(loadBefore),
      load1m: round(load1m()),
    };
    add({ name: `${name}.per-session-hour`, value: mib(perHour), unit: 'MiB/h', detail });
    add({ name: `${name}.peak`, value: detail.peakMiB, unit: 'MiB', detail: { load1m: detail.load1m } });
  }
  return results;
}

if (isMain(import.meta.url)) {
  await runEtcdGrowth((r) => process.stdout.write(`${JSON.stringify(r)}\n`), {
    minutes: Number(process.argv[2] ?? 12),
  });
}
