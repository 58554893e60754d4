// The cluster chaos run: a typist in headless Chromium at a steady rate on a
// LocalCluster (3 etcd members, 3 servers, renderer nodes given every
// server) while faults hit servers and etcd, one at a time, every kind in
// turn: SIGKILL of the server the viewer's inputs go through, of the server
// homing the shown replica, of a server homing nothing the viewer uses;
// SIGSTOP of a server; a server's partition; SIGKILL of the etcd leader; a
// whole server machine down (its server and its etcd member). A killed server
// comes back only once the viewer showed inputs typed after the kill, i.e.
// the session carried on without it. Per fault: the visible gap, the input
// stall, the time to re-home the nodes and to re-elect; at the end, what was
// typed against the final document and every replica's hash.
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import type { WriterState } from '../../render/apps/writer/index.js';
import { percentile } from '../../bench/lib/report.js';
import {
  createWriterSession,
  gapSummary,
  typingOutcome,
  type ChaosTypingOptions,
  type GapSummary,
  type TypingOutcome,
} from './chaos-run.js';
import { NODE_SILENCE_MS } from '../../protocol/node-liveness.js';
import { launchChromium } from './chromium.js';
import { hang, partition, type ActiveFault } from './faults.js';
import { stopAll } from './launcher.js';
import { LocalCluster, type ClusterServer } from './local-cluster.js';
import { startPageTypist } from './page-typist.js';
import { prng } from './prng.js';
import { referenceState } from './reference-state.js';
import { openViewer, viewerPageState } from './viewer-page.js';
import { waitFor } from './wait-for.js';

export const CLUSTER_FAULT_KINDS = [
  'kill-input-server',
  'kill-shown-home',
  'kill-idle-server',
  'stop-server',
  'partition-server',
  'kill-etcd-leader',
  'machine-down',
] as const;
export type ClusterFaultKind = (typeof CLUSTER_FAULT_KINDS)[number];

/** `seconds` is the typing time; with everyKind the run goes on until every kind was injected once. */
export interface ClusterChaosOptions extends ChaosTypingOptions {
  servers: number;
  nodes: number;
  /** How long a SIGSTOP or a partition lasts (default 5 s). */
  faultMs?: number;
  /** Kinds drawn from (default all the network allows: no partition on loopback). */
  kinds?: readonly ClusterFaultKind[];
  /** Keep injecting past `seconds` until every kind happened (bounded by 4 × seconds + 3 min). */
  everyKind?: boolean;
}

export interface ClusterFaultRecord {
  kind: ClusterFaultKind;
  /** The server (or etcd member) hit. */
  target: string;
  /** What the target was to the viewer and the cluster when hit. */
  roles: string[];
  /** ms until the viewer showed an input typed after the fault (GAP_SEQS; null: not within the watch). */
  visibleGapMs: number | null;
  /** Longest time inputs were pending with no new ack while the fault lasted (ms). */
  inputStallMs: number;
  /** ms until the session carried on: inputs typed after the fault acknowledged and shown. */
  carriedOnMs: number | null;
  /** ms until every running node was homed on a live server other than the target (null: none to move, or never). */
  rehomeMs: number | null;
  /** ms until a leader (Lockstep's, or etcd's for kill-etcd-leader) other than the target held office (null: not needed, or never). */
  reelectMs: number | null;
  rehomeNeeded: boolean;
  reelectNeeded: boolean;
}

export interface ClusterKindSummary extends GapSummary {
  count: number;
  stallMax: number;
  rehomeP50: number | null;
  reelectP50: number | null;
  /** Faults after which the session did not carry on within the watch. */
  notCarriedOn: number;
}

export interface ClusterChaosReport extends TypingOutcome {
  network: 'netns' | 'loopback';
  seconds: number;
  seed: number;
  servers: number;
  nodes: number;
  faults: ClusterFaultRecord[];
  /** Kinds that could not be injected when their turn came (why), e.g. no idle server. */
  skipped: Array<{ kind: ClusterFaultKind; why: string }>;
  byKind: Partial<Record<ClusterFaultKind, ClusterKindSummary>>;
  /**
   * The same per kind over only the faults whose target was also the elected leader (a kill of the shown
   * replica's home that is the leader waits on nothing the leader does, or should not): kinds without one absent.
   */
  byKindLeaderHit: Partial<Record<ClusterFaultKind, ClusterKindSummary>>;
}

/** How long after a fault (ended) its gap, stall, re-home and re-election are watched for. */
const WATCH_MS = 20_000;
/**
 * The gap ends when the picture shows this many seqs past what was acknowledged
 * at the fault: two key presses (down + up each), so at least one typed after
 * it (at 20 keys/s at most one is in flight). It includes about one key
 * interval and the usual input-to-photon latency (~100 ms together here).
 */
const GAP_SEQS = 4;
/** The session carried on: this many seqs (key downs and ups) past the fault acknowledged and shown. */
const CARRY_ON_SEQS = 10;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * LOCKSTEP_PROC_LOG_DIR set: the viewer's console (with LOCKSTEP_VIEWER_DEBUG=1, its switch decisions)
 * goes to <dir>/viewer.log, each line with the wall clock, next to the servers' and nodes' logs.
 */
function traceViewer(page: Page): ((line: string) => void) | null {
  const dir = process.env.LOCKSTEP_PROC_LOG_DIR;
  if (!dir) return null;
  const file = join(dir, 'viewer.log');
  const write = (line: string) => appendFileSync(file, `${new Date().toISOString()} ${line}\n`);
  page.on('console', (m) => write(m.text()));
  return write;
}

/**
 * The server the viewer sends its inputs through: `window.__lockstep.inputServer`
 * (a URL) where the viewer reports it, else the server the page came from.
 */
async function viewerInputServer(page: Page): Promise<string> {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: { inputServer?: unknown } }).__lockstep;
    return typeof l?.inputServer === 'string' ? new URL(l.inputServer).origin : location.origin;
  });
}

/** Hosts of every stream the viewer holds (shown or standby). */
async function viewerStreamHosts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: { streams?: Array<{ hostId: string }> } }).__lockstep;
    return (l?.streams ?? []).map((s) => s.hostId);
  });
}

function median(xs: number[]): number | null {
  return xs.length === 0 ? null : percentile(xs, 50);
}

export function summarizeClusterChaos(faults: readonly ClusterFaultRecord[]): ClusterChaosReport['byKind'] {
  const byKind: ClusterChaosReport['byKind'] = {};
  for (const kind of new Set(faults.map((f) => f.kind))) {
    const fs = faults.filter((f) => f.kind === kind);
    byKind[kind] = {
      count: fs.length,
      ...gapSummary(
        fs.map((f) => f.visibleGapMs),
        WATCH_MS,
      ),
      stallMax: Math.max(0, ...fs.map((f) => f.inputStallMs)),
      rehomeP50: median(fs.flatMap((f) => (f.rehomeMs === null ? [] : [f.rehomeMs]))),
      reelectP50: median(fs.flatMap((f) => (f.reelectMs === null ? [] : [f.reelectMs]))),
      notCarriedOn: fs.filter((f) => f.carriedOnMs === null).length,
    };
  }
  return byKind;
}

export async function runClusterChaos(opts: ClusterChaosOptions): Promise<ClusterChaosReport> {
  const say = opts.log ?? (() => undefined);
  const rand = prng(opts.seed);
  const faultMs = opts.faultMs ?? 5000;
  const cluster = await LocalCluster.create({
    servers: opts.servers,
    nodes: opts.nodes,
    ...(opts.loopback ? { loopback: true } : {}),
    log: say,
  });
  const browser = await launchChromium();
  try {
    const first = cluster.server(0);
    const sessionId = await createWriterSession(first.url, opts);
    await waitFor(
      'a live replica',
      async () => (await cluster.sessionReplicas(sessionId)).replicas.some((r) => r.state === 'live'),
      60_000,
    );
    const page: Page = await browser.context.newPage();
    const trace = traceViewer(page);
    await openViewer(page, first.url, sessionId, 'warm');
    const possible = CLUSTER_FAULT_KINDS.filter((k) => k !== 'partition-server' || cluster.mode === 'netns');
    const kinds = possible.filter((k) => !opts.kinds || opts.kinds.includes(k));
    if (kinds.length === 0)
      throw new Error(`no fault kind of ${opts.kinds?.join(', ')} is possible on ${cluster.mode}`);
    say(`typing at ${opts.keysPerSecond} keys/s for ${opts.seconds} s; faults: ${kinds.join(', ')} (${cluster.mode})`);
    const typist = startPageTypist(page, opts.keysPerSecond, 'no one machine matters to this session ');

    const faults: ClusterFaultRecord[] = [];
    const skipped: ClusterChaosReport['skipped'] = [];
    const started = Date.now();
    const deadline = started + opts.seconds * 1000;
    const hardStop = started + (opts.seconds * 4 + 180) * 1000;
    // Every kind in turn, from a seeded start, so a short run meets them all.
    let turn = Math.floor(rand() * kinds.length);
    const done = new Set<ClusterFaultKind>();
    const more = () =>
      Date.now() < hardStop &&
      (Date.now() + faultMs + 3000 < deadline || (opts.everyKind === true && kinds.some((k) => !done.has(k))));
    while (more()) {
      await sleep(1500 + rand() * 1000);
      const kind = kinds[turn++ % kinds.length] ?? 'kill-input-server';
      const record = await injectOne(kind);
      done.add(kind);
      if (record) {
        faults.push(record);
        say(
          `  gap ${record.visibleGapMs ?? '-'} ms, input stall ${record.inputStallMs} ms, carried on ${record.carriedOnMs ?? '-'} ms, ` +
            `re-homed ${record.rehomeNeeded ? (record.rehomeMs ?? 'never') : 'n/a'}, re-elected ${record.reelectNeeded ? (record.reelectMs ?? 'never') : 'n/a'}`,
        );
      }
      // Back to full strength before the next fault: every server up, the viewer caught up.
      await waitFor(
        'the viewer caught up',
        async () => {
          const st = await viewerPageState(page);
          return st !== null && st.pendingInputs <= 4 && st.displayedSeq >= st.ackedSeq - 4;
        },
        15_000,
      ).catch(() => say('  (the viewer did not catch up within 15 s)'));
    }
    await typist.stop();
    const typed = typist.typed();
    await waitFor('inputs acknowledged', async () => (await viewerPageState(page))?.pendingInputs === 0, 30_000).catch(
      () => say('inputs still pending at the end'),
    );
    const { head } = await cluster.sessionReplicas(sessionId);
    const hashes = await waitFor(
      'replicas converged',
      () => cluster.convergedAt(sessionId, head, opts.replicationFactor),
      45_000,
      200,
    ).catch(async (err: unknown) => {
      say(err instanceof Error ? err.message : String(err));
      return (await cluster.sessionReplicas(sessionId)).replicas
        .filter((r) => r.state === 'live')
        .map((r) => r.stateHash ?? '');
    });
    const live = cluster.liveServers()[0];
    if (!live) throw new Error('no live server at the end');
    const state = (await referenceState(live.url, 'writer', opts.width, opts.height, sessionId)) as WriterState;
    return {
      network: cluster.mode,
      seconds: Math.round((Date.now() - started) / 1000),
      seed: opts.seed,
      servers: opts.servers,
      nodes: opts.nodes,
      faults,
      skipped,
      byKind: summarizeClusterChaos(faults),
      byKindLeaderHit: summarizeClusterChaos(faults.filter((f) => f.roles.includes('leader'))),
      ...typingOutcome(typed, state.text, hashes, opts.replicationFactor),
    };

    /** A killed server back; once more if it dies starting (on a loaded box its first lease can expire at start). */
    async function restartServer(server: ClusterServer): Promise<void> {
      try {
        await cluster.startServer(server.index);
      } catch (err) {
        say(`  ${server.id} did not start (${err instanceof Error ? err.message.split('\n')[0] : String(err)}): again`);
        await cluster.startServer(server.index);
      }
    }

    /** Picks the kind's target, hits it, watches, brings it back; null when the kind has no target now. */
    async function injectOne(kind: ClusterFaultKind): Promise<ClusterFaultRecord | null> {
      const before = await viewerPageState(page);
      const ackedAtFault = before?.ackedSeq ?? 0;
      const inputUrl = await viewerInputServer(page);
      const homes = await cluster.nodeHomes();
      const leaderId = await cluster.leaderId();
      const input = cluster.servers.find((s) => s.url === inputUrl);
      const shownHome = before?.liveHostId ? cluster.serverById(homes.get(before.liveHostId) ?? '') : undefined;
      const streamHomes = (await viewerStreamHosts(page)).map((h) => homes.get(h));
      const used = new Set([input?.id, ...streamHomes]);
      const live = cluster.liveServers();
      const pick = (xs: ClusterServer[]) => xs[Math.floor(rand() * xs.length)];
      let server: ClusterServer | undefined;
      let etcdMember: number | null = null;
      if (kind === 'kill-input-server') server = input;
      else if (kind === 'kill-shown-home') server = shownHome;
      else if (kind === 'kill-idle-server') server = pick(live.filter((s) => !used.has(s.id)));
      else if (kind === 'kill-etcd-leader') etcdMember = await cluster.etcd.leader();
      else server = pick(live);
      if (server === undefined && etcdMember === null) {
        const why =
          kind === 'kill-idle-server'
            ? `every live server is used by the viewer (${[...used].join(', ')})`
            : `no target (input ${inputUrl}, shown host ${before?.liveHostId ?? '-'})`;
        skipped.push({ kind, why });
        say(`${kind}: skipped, ${why}`);
        return null;
      }
      const target = server?.id ?? `etcd-${etcdMember ?? '?'}`;
      const roles = server
        ? [
            server === input ? 'inputs' : '',
            server === shownHome ? 'shown-home' : '',
            server.id === leaderId ? 'leader' : '',
            [...homes.values()].includes(server.id) ? 'homes-nodes' : '',
            // Every stream the viewer holds is homed there: nothing to switch to until a node re-homes.
            streamHomes.length > 0 && streamHomes.every((h) => h === server.id) ? 'homes-every-stream' : '',
          ].filter((r) => r !== '')
        : ['etcd-leader'];
      // A SIGSTOP longer than the nodes' silence bound moves them too (protocol/node-liveness.ts); a shorter one must not.
      const rehomeNeeded =
        server !== undefined &&
        (kind !== 'stop-server' || faultMs > NODE_SILENCE_MS) &&
        [...homes.values()].includes(server.id);
      const reelectNeeded = kind === 'kill-etcd-leader' || (server !== undefined && server.id === leaderId);
      say(`${kind} ${target} (${roles.join(', ') || 'idle'})`);
      trace?.(`fault ${kind} ${target} (${roles.join(', ')}) acked ${ackedAtFault}`);

      const t0 = Date.now();
      let active: ActiveFault | null = null;
      if (kind === 'stop-server' && server?.proc) active = hang(server.proc, server.id);
      else if (kind === 'partition-server' && server) active = partition(cluster.net, server.host.hostId);
      else if (kind === 'machine-down' && server) await cluster.machineDown(server.index);
      else if (kind === 'kill-etcd-leader' && etcdMember !== null) await cluster.etcd.kill(etcdMember);
      else if (server) await cluster.killServer(server.index);
      if (kind === 'stop-server' && server) server.paused = true;

      let visibleGapMs: number | null = null;
      let carriedOnMs: number | null = null;
      let rehomeMs: number | null = null;
      let reelectMs: number | null = null;
      let stall = 0;
      let lastAck = ackedAtFault;
      let lastProgress = t0;
      let carryTarget: number | null = null;
      const undoAt = active ? t0 + faultMs : t0;
      const limit = undoAt + WATCH_MS;
      let lastPoll = 0;
      for (;;) {
        const now = Date.now();
        if (active && now >= undoAt) {
          active.undo();
          active = null;
          if (server) server.paused = false;
        }
        const st = await viewerPageState(page).catch(() => null);
        if (st) {
          if (st.ackedSeq > lastAck || st.pendingInputs === 0) {
            lastAck = Math.max(lastAck, st.ackedSeq);
            lastProgress = now;
          } else stall = Math.max(stall, now - lastProgress);
          if (visibleGapMs === null && st.displayedSeq >= ackedAtFault + GAP_SEQS) visibleGapMs = now - t0;
          if (carryTarget === null && st.ackedSeq >= ackedAtFault + CARRY_ON_SEQS) carryTarget = st.ackedSeq;
          if (carriedOnMs === null && carryTarget !== null && st.displayedSeq >= carryTarget) carriedOnMs = now - t0;
        }
        // etcd reads at most every 250 ms.
        if (now - lastPoll >= 250) {
          lastPoll = now;
          if (rehomeNeeded && rehomeMs === null) {
            const h = await cluster.nodeHomes().catch(() => null);
            const running = cluster.nodes.filter((n) => n.proc !== null);
            const liveIds = new Set(cluster.liveServers().map((s) => s.id));
            if (
              h &&
              running.every((n) => {
                const home = h.get(n.hostId);
                return home !== undefined && home !== server?.id && liveIds.has(home);
              })
            )
              rehomeMs = now - t0;
          }
          if (reelectNeeded && reelectMs === null) {
            if (kind === 'kill-etcd-leader') {
              const l = await cluster.etcd.leader().catch(() => null);
              if (l !== null && l !== etcdMember) reelectMs = now - t0;
            } else {
              const id = await cluster.leaderId().catch(() => null);
              if (id && id !== server?.id && cluster.liveServers().some((s) => s.id === id)) reelectMs = now - t0;
            }
          }
        }
        const settled =
          visibleGapMs !== null &&
          carriedOnMs !== null &&
          (!rehomeNeeded || rehomeMs !== null) &&
          (!reelectNeeded || reelectMs !== null);
        if ((settled && active === null) || now > limit) break;
        await sleep(50);
      }
      if (active) {
        active.undo();
        if (server) server.paused = false;
      }
      // Brought back only now: after the session carried on without it (or the watch gave up on that).
      if (kind === 'machine-down' && server) await cluster.machineUp(server.index);
      else if (kind === 'kill-etcd-leader' && etcdMember !== null) await cluster.etcd.restart(etcdMember);
      else if (kind.startsWith('kill-') && server) await restartServer(server);
      return {
        kind,
        target,
        roles,
        visibleGapMs,
        inputStallMs: stall,
        carriedOnMs,
        rehomeMs,
        reelectMs,
        rehomeNeeded,
        reelectNeeded,
      };
    }
  } finally {
    await browser.close();
    await cluster.close();
    await stopAll();
  }
}

/** The report as markdown (bench/results/chaos-cluster.md). */
export function clusterChaosMarkdown(r: ClusterChaosReport): string {
  const cell = (v: number | null) => (v === null ? '–' : String(v));
  const kinds = [
    ...Object.entries(r.byKind),
    ...Object.entries(r.byKindLeaderHit).map(([k, v]) => [`${k}, target the leader`, v] as const),
  ];
  const rows = kinds.map(
    ([k, v]) =>
      `| ${k} | ${v.count} | ${cell(v.gapP50)} | ${cell(v.gapP95)} | ${cell(v.gapMax)} | ${v.gapTimeouts} | ${v.stallMax} | ${cell(v.rehomeP50)} | ${cell(v.reelectP50)} | ${v.notCarriedOn} |`,
  );
  return [
    `# Cluster chaos run (${r.seconds} s, ${r.servers} servers over ${r.servers} etcd members, ${r.nodes} nodes, ${r.network}, seed ${r.seed})`,
    '',
    'Count: faults of that kind in this run (the percentiles are over that many samples).',
    '',
    '| fault | count | visible gap p50 (ms) | p95 | max | gap timeouts (at the bound) | input stall max (ms) | re-home p50 (ms) | re-elect p50 (ms) | did not carry on |',
    '|---|---|---|---|---|---|---|---|---|---|',
    ...rows,
    '',
    ...r.faults.map(
      (f) =>
        `- ${f.kind} ${f.target} (${f.roles.join(', ') || 'idle'}): gap ${cell(f.visibleGapMs)} ms, stall ${f.inputStallMs} ms, carried on ${cell(f.carriedOnMs)} ms, re-home ${f.rehomeNeeded ? cell(f.rehomeMs) : 'n/a'}, re-elect ${f.reelectNeeded ? cell(f.reelectMs) : 'n/a'}`,
    ),
    ...r.skipped.map((s) => `- ${s.kind} skipped: ${s.why}`),
    '',
    `Typed ${r.typedChars} characters; the final document holds ${r.loggedKeystrokes}; lost inputs: ${r.lostInputs}; document equals what was typed: ${r.textMatches}.`,
    `Final replica hashes equal: ${r.hashesEqual} (${r.finalHashes.join(', ')}).`,
    '',
  ].join('\n');
}
