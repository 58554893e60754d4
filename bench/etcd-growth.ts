// etcd database growth per session-hour of typing, on the real server path: a
// real 3-member etcd, three Lockstep servers over it (`--store etcd:`, their
// elected leader running its upkeep on the schedule server/config.ts gives it)
// and three renderer nodes running the writer with R = 3, through
// scripts/lib/local-cluster.ts (loopback). One writer session is typed into
// over the viewer socket, as a typist's page does: `keysPerSecond` key presses
// a second (a key down each: the writer reads no key-ups, so its viewer sends
// none; each acknowledged), in real time, so
// everything else the cluster writes on its own clock (cluster checkpoints:
// requests, relayed chunks and reports, confirmed records, stored snapshots
// and truncation; the health board; placement; leases and the node directory)
// is written at its real rate too. A session-hour here is an hour of typing at
// 20 keys/s: several times a fast typist's sustained rate, so the figure is an
// upper bound for a human's session-hour.
//
// Two runs on fresh clusters: without upkeep (its period set past the run) and
// with it, the period scaled down through the product's own configuration
// (LOCKSTEP_UPKEEP_EVERY_MS, _DEFRAG_EVERY, _KEEP_REVISIONS) so a short run holds
// several passes. Every member's dbSize (allocated: what etcd's quota counts)
// and dbSizeInUse are sampled every `sampleEveryMs`; growth per session-hour is
// the least-squares slope of the largest member's dbSize against time, × 3600:
// over the whole run without upkeep; with it, over the samples right after each
// defragmentation (those of the second half when there are two), as the old
// in-log bench fitted them. At the end: the
// keys by prefix (what dominates), whether what the cluster writes stays bounded
// (checkpoint chunks and requests, log and snapshots behind the checkpoint,
// compacted history), then the session is closed and the upkeep must remove
// every key of it but its closed session record.
// Usage: tsx bench/etcd-growth.ts [minutesWithUpkeep] [minutesWithout]
import { performance } from 'node:perf_hooks';
import type { Etcd3 } from 'etcd3';
import { NO_MODS, type InputEvent } from '../protocol/input.js';
import { openEtcdClient } from '../server/cluster/etcd-client.js';
import { memberDbStatus, type MemberDbStatus } from '../server/cluster/upkeep.js';
import { LocalCluster } from '../scripts/lib/local-cluster.js';
import { ViewerClient } from '../scripts/lib/viewer-client.js';
import { waitFor } from '../scripts/lib/wait-for.js';
import { sleep } from './lib/cluster.js';
import { collector, isMain, load1m, percentile, round, type BenchResult } from './lib/report.js';

/** The servers' etcd key prefix (server/lockstep-server.ts). */
const NS = 'lockstep/';
const TYPED = 'the quick brown fox jumps over the lazy dog ';
/** Never within a run: setInterval's longest period. */
const NEVER_MS = 2 ** 31 - 1;
/** Unacknowledged inputs the typist lets pile up before it waits (a stalled store stalls it). */
const MAX_IN_FLIGHT = 64;

export interface EtcdGrowthOptions {
  /** Typing with upkeep, minutes (default 8). */
  minutes?: number;
  /** Typing without upkeep, minutes (default 3: the growth is linear in writes). */
  baselineMinutes?: number;
  /** Key presses per second, each a key down and a key up (default 20). */
  keysPerSecond?: number;
  replicationFactor?: number;
  /** LOCKSTEP_UPKEEP_EVERY_MS for the run with upkeep (default 30 s: the default 5 minutes, 10× faster). */
  upkeepEveryMs?: number;
  /** LOCKSTEP_UPKEEP_DEFRAG_EVERY (default 2: a defragmentation a minute, 60× the hourly default). */
  defragEvery?: number;
  /**
   * LOCKSTEP_UPKEEP_KEEP_REVISIONS (default 1000, a tenth of the server's 10 000: at the ~10 revisions/s
   * this typing makes, 10 000 are 17 minutes of history, longer than the run).
   */
  keepRevisions?: number;
  /** LOCKSTEP_SNAPSHOT_EVERY (default: the server's, 1000 inputs). */
  snapshotEvery?: number;
  sampleEveryMs?: number;
}

interface Sample {
  sec: number;
  members: MemberDbStatus[];
}

interface KeyGroup {
  keys: number;
  bytes: number;
}

interface RunOutcome {
  samples: Sample[];
  inputs: number;
  /** Inputs the server refused or did not acknowledge in time. */
  refused: number;
  typedSec: number;
  ackMs: number[];
  revision: number;
  groups: Map<string, KeyGroup>;
  bounds: Record<string, number | string>;
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

/** A key's group: session, server and seq parts of the layout replaced by placeholders. */
export function keyGroup(key: string): string {
  if (!key.startsWith(NS)) return `(outside ${NS})`;
  const p = key.slice(NS.length).split('/');
  switch (p[0]) {
    case 'log':
    case 'snap':
      return `${p[0]}/<session>/${p[2] ?? ''}`;
    case 'cluster':
      return `cluster/${p[1] ?? ''}`;
    case 'sess':
      return `sess/${p[1] ?? ''}`;
    default:
      return p[0] ?? '';
  }
}

async function keyGroups(client: Etcd3): Promise<Map<string, KeyGroup>> {
  const all = await client.getAll().buffers();
  const groups = new Map<string, KeyGroup>();
  for (const [key, value] of Object.entries(all)) {
    const g = keyGroup(key);
    const e = groups.get(g) ?? { keys: 0, bytes: 0 };
    e.keys++;
    e.bytes += Buffer.byteLength(key) + value.length;
    groups.set(g, e);
  }
  return groups;
}

function keyPress(i: number): InputEvent {
  const ch = TYPED[i % TYPED.length] ?? ' ';
  return { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS };
}

/** Keys under `prefix` (count only). */
async function countKeys(client: Etcd3, prefix: string): Promise<number> {
  return client.getAll().prefix(prefix).count();
}

async function typeSession(withUpkeep: boolean, minutes: number, o: Required<EtcdGrowthOptions>): Promise<RunOutcome> {
  const cluster = await LocalCluster.create({
    servers: 3,
    nodes: 3,
    loopback: true,
    serverEnv: {
      LOCKSTEP_UPKEEP_EVERY_MS: String(withUpkeep ? o.upkeepEveryMs : NEVER_MS),
      LOCKSTEP_UPKEEP_DEFRAG_EVERY: String(o.defragEvery),
      LOCKSTEP_UPKEEP_KEEP_REVISIONS: String(o.keepRevisions),
      LOCKSTEP_SNAPSHOT_EVERY: String(o.snapshotEvery),
    },
  });
  const client = openEtcdClient({ hosts: cluster.etcd.clientUrls, callTimeoutMs: 5000 });
  const viewer = await ViewerClient.connect(cluster.server(0).url);
  try {
    const { session } = await viewer.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: o.replicationFactor,
      width: 480,
      height: 320,
    });
    const sessionId = session.sessionId;
    const enc = encodeURIComponent(sessionId);
    await waitFor(
      `${o.replicationFactor} live replicas`,
      async () => {
        const { replicas } = await cluster.sessionReplicas(sessionId);
        return replicas.filter((r) => r.state === 'live').length >= o.replicationFactor;
      },
      90_000,
      250,
    );
    await viewer.request({ type: 'session.join', sessionId, clientId: 'typist' });

    const samples: Sample[] = [];
    const t0 = performance.now();
    let sampling = true;
    const sampler = (async () => {
      while (sampling) {
        const members = await memberDbStatus(cluster.etcd.clientUrls).catch(() => null);
        if (members) samples.push({ sec: (performance.now() - t0) / 1000, members });
        await sleep(o.sampleEveryMs);
      }
    })();

    // Inputs on a schedule, as a page sends them: never waiting for the previous one's ack (in order on
    // the one socket), at most MAX_IN_FLIGHT unacknowledged.
    const ackMs: number[] = [];
    // The writer reads no key releases (its manifest's keyUps): a key press is one input, as its viewer sends it.
    const intervalMs = 1000 / o.keysPerSecond;
    const windowMs = minutes * 60_000;
    const inFlight = new Set<Promise<void>>();
    let sent = 0;
    let refused = 0;
    const send = (event: InputEvent): void => {
      const t = performance.now();
      const p: Promise<void> = viewer
        .request({ type: 'input', sessionId, clientSeq: viewer.clientSeq++, event })
        .then(
          () => void ackMs.push(performance.now() - t),
          () => void refused++,
        )
        .finally(() => inFlight.delete(p));
      inFlight.add(p);
    };
    while (performance.now() - t0 < windowMs) {
      const wait = t0 + sent * intervalMs - performance.now();
      if (wait > 0) await sleep(wait);
      while (inFlight.size >= MAX_IN_FLIGHT) await Promise.race(inFlight);
      send(keyPress(sent));
      sent++;
    }
    await Promise.all(inFlight);
    const typedSec = (performance.now() - t0) / 1000;
    sampling = false;
    await sampler;

    const head = await client.get(`${NS}log/${enc}/head`).string();
    const revision = Number((await client.get(`${NS}cluster/leader`).exec()).header.revision);
    const groups = await keyGroups(client);
    // What must stay bounded while the session is open, whatever its length.
    const dataKeys = await client.getAll().prefix(`${NS}cluster/ckpt-data/${enc}/`).keys();
    const bounds: Record<string, number | string> = {
      headSeq: Number(head ?? 0),
      loggedInputs: await countKeys(client, `${NS}log/${enc}/in/`),
      byClientKeys: await countKeys(client, `${NS}log/${enc}/by-client/`),
      storedSnapshots: await countKeys(client, `${NS}snap/${enc}/meta/`),
      checkpointDataKeys: dataKeys.length,
      checkpointDataSeqs: new Set(dataKeys.map((k) => k.split('/').at(-3))).size,
      checkpointRequests: await countKeys(client, `${NS}cluster/checkpoint/`),
      healthEntries: await countKeys(client, `${NS}cluster/health/`),
      placementEntries: await countKeys(client, `${NS}cluster/placement/`),
    };
    // Compacted history: a read well behind the revision window is refused.
    const behind = revision - o.keepRevisions - 500;
    bounds.historyCompacted =
      behind < 2
        ? 'n/a'
        : await client
            .get(`${NS}cluster/leader`)
            .revision(behind)
            .string()
            .then(
              () => 'no',
              (err: unknown) => (err instanceof Error && /compacted/i.test(err.message) ? 'yes' : 'error'),
            );
    if (withUpkeep) {
      // Closed: within two upkeep periods no key of the session is left but its (closed) session record.
      // The servers are busy on a loaded box: a close that times out is asked again (closing twice is harmless).
      await waitFor(
        'the session closed',
        async () => (await viewer.raw({ type: 'sessions.close', sessionId }, 30_000).catch(() => ({ ok: false }))).ok,
        120_000,
        1000,
      );
      const closedAt = performance.now();
      const leftover = async (): Promise<string[]> =>
        (await client.getAll().keys()).filter((k) => k.includes(enc) && k !== `${NS}sess/rec/${enc}`);
      const left = await waitFor(
        'the closed session purged',
        async () => ((await leftover()).length === 0 ? [] : undefined),
        2 * o.upkeepEveryMs + 30_000,
        1000,
      ).catch(() => leftover());
      bounds.keysLeftAfterClose = left.length;
      bounds.leftAfterClose = left.map(keyGroup).join(' ') || '-';
      bounds.purgedAfterSec = left.length === 0 ? round((performance.now() - closedAt) / 1000, 1) : 'never';
    }
    return { samples, inputs: sent, refused, typedSec, ackMs, revision, groups, bounds };
  } finally {
    viewer.close();
    client.close();
    await cluster.close();
  }
}

export async function runEtcdGrowth(
  onResult: (r: BenchResult) => void = () => {},
  options: EtcdGrowthOptions = {},
): Promise<BenchResult[]> {
  const o: Required<EtcdGrowthOptions> = {
    minutes: 8,
    baselineMinutes: 3,
    keysPerSecond: 20,
    replicationFactor: 3,
    upkeepEveryMs: 30_000,
    defragEvery: 2,
    keepRevisions: 1000,
    snapshotEvery: 1000,
    sampleEveryMs: 5000,
    ...options,
  };
  const { add, results } = collector(onResult);
  const mib = (b: number): number => round(b / (1024 * 1024), 3);
  const kib = (b: number): number => round(b / 1024, 1);
  for (const withUpkeep of [false, true]) {
    const minutes = withUpkeep ? o.minutes : o.baselineMinutes;
    const loadBefore = load1m();
    const run = await typeSession(withUpkeep, minutes, o);
    const name = `etcd-growth.${withUpkeep ? 'with-upkeep' : 'no-upkeep'}`;
    const largest = (s: Sample, f: keyof MemberDbStatus): number => Math.max(...s.members.map((m) => m[f]));
    // With upkeep: the samples right after each defragmentation (the largest member's dbSize fell by a
    // tenth or more since the previous sample), as the quota sees the database once upkeep has run; from
    // the second half when it holds two, else all of them.
    const afterDefrag = run.samples.filter((s, i) => {
      const before = run.samples[i - 1];
      return before !== undefined && largest(s, 'dbSize') < 0.9 * largest(before, 'dbSize');
    });
    const lateDefrags = afterDefrag.filter((s) => s.sec >= run.typedSec / 2);
    const fitted = !withUpkeep ? run.samples : lateDefrags.length >= 2 ? lateDefrags : afterDefrag;
    const perHour = slope(fitted.map((s) => [s.sec, largest(s, 'dbSize')])) * 3600;
    // In use (what compaction frees at once), over the run's second half.
    const secondHalf = run.samples.filter((s) => s.sec >= run.typedSec / 2);
    const inUsePerHour =
      slope((withUpkeep ? secondHalf : run.samples).map((s) => [s.sec, largest(s, 'dbSizeInUse')])) * 3600;
    const groups = [...run.groups.entries()].sort((a, b) => b[1].bytes - a[1].bytes);
    const detail = {
      path: '3 etcd members, 3 servers (--store etcd:), 3 writer nodes, viewer-socket typist, loopback',
      minutes,
      keysPerSecond: o.keysPerSecond,
      inputs: run.inputs,
      refusedInputs: run.refused,
      inputsPerSecond: round(run.inputs / run.typedSec, 1),
      replicationFactor: o.replicationFactor,
      snapshotEvery: o.snapshotEvery,
      upkeepEveryMs: withUpkeep ? o.upkeepEveryMs : 'off',
      ...(withUpkeep ? { defragEvery: o.defragEvery, keepRevisions: o.keepRevisions } : {}),
      revisions: run.revision,
      fittedSamples: fitted.length,
      ...(withUpkeep
        ? {
            defragsSeen: afterDefrag.length,
            afterDefragMiB: afterDefrag.map((x) => `${round(x.sec)}s:${mib(largest(x, 'dbSize'))}`).join(' '),
          }
        : {}),
      inUseMiBPerHour: mib(inUsePerHour),
      startMiB: mib(run.samples[0] ? largest(run.samples[0], 'dbSize') : 0),
      endMiB: mib(run.samples.at(-1) ? largest(run.samples.at(-1) as Sample, 'dbSize') : 0),
      endInUseMiB: mib(run.samples.at(-1) ? largest(run.samples.at(-1) as Sample, 'dbSizeInUse') : 0),
      sizesMiB: run.samples.map((s) => mib(largest(s, 'dbSize'))).join(' '),
      inUseMiB: run.samples.map((s) => mib(largest(s, 'dbSizeInUse'))).join(' '),
      keysAtEnd: groups.map(([g, e]) => `${g} ${e.keys}/${kib(e.bytes)}KiB`).join(', '),
      ackP50Ms: round(percentile(run.ackMs, 50), 1),
      ackP99Ms: round(percentile(run.ackMs, 99), 1),
      ackMaxMs: round(Math.max(...run.ackMs), 1),
      ...run.bounds,
      load1mBefore: round(loadBefore),
      load1m: round(load1m()),
    };
    const peak = Math.max(...run.samples.flatMap((s) => s.members.map((m) => m.dbSize)));
    add({ name: `${name}.per-session-hour`, value: mib(perHour), unit: 'MiB/h', detail });
    add({ name: `${name}.peak`, value: mib(peak), unit: 'MiB', detail: { load1m: detail.load1m } });
  }
  return results;
}

if (isMain(import.meta.url)) {
  await runEtcdGrowth((r) => process.stdout.write(`${JSON.stringify(r, null, 1)}\n`), {
    minutes: Number(process.argv[2] ?? 8),
    baselineMinutes: Number(process.argv[3] ?? 3),
  });
}
