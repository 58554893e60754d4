// `npm run demo:failover`: a server and three renderer nodes (each standing for
// a host), a scripted typist in headless Chromium, and the renderer being shown
// SIGKILLed every few seconds and restarted. Prints a report: kills, visible
// gaps, lost inputs (must be 0), final state hashes (must be equal).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { SessionInfo } from '../protocol/session.js';
import type { WriterState } from '../render/apps/writer/index.js';
import { percentile } from '../bench/lib/report.js';
import { launchChromium } from './lib/chromium.js';
import { HostNetwork } from './lib/host-network.js';
import { removeDir, ROOT, startNode, startServer, stopAll, type Proc } from './lib/launcher.js';
import { referenceState } from './lib/reference-state.js';
import { getSession } from './lib/session-rest.js';
import { ViewerClient } from './lib/viewer-client.js';
import { observeFailover, openViewer, viewerPageState, type FailoverObservation } from './lib/viewer-page.js';
import { waitFor } from './lib/wait-for.js';

const seconds = Number(process.env.LOCKSTEP_DEMO_SECONDS ?? 30);
const killEveryMs = Number(process.env.LOCKSTEP_DEMO_KILL_EVERY_MS ?? 4000);
const mode = process.env.LOCKSTEP_DEMO_MODE === 'hot' ? 'hot' : 'warm';
const width = Number(process.env.LOCKSTEP_WIDTH ?? 960);
const height = Number(process.env.LOCKSTEP_HEIGHT ?? 540);
const HOSTS = ['host-1', 'host-2', 'host-3'];

function say(line: string): void {
  process.stdout.write(`[failover] ${line}\n`);
}

export interface FailoverReport {
  /** netns: each renderer host has its own network stack; loopback: processes only. */
  network: string;
  mode: string;
  seconds: number;
  kills: number;
  gapsMs: number[];
  gapP50Ms: number;
  gapMaxMs: number;
  typedChars: number;
  loggedChars: number;
  lostInputs: number;
  textMatches: boolean;
  finalHashes: Record<string, string | null>;
  hashesEqual: boolean;
}

export async function runFailoverDemo(): Promise<FailoverReport> {
  // "Across hosts" means separate network stacks when this machine allows it.
  const net = HostNetwork.create({ loopback: process.env.LOCKSTEP_DEMO_LOOPBACK === '1', log: say });
  const server = await startServer({ env: { LOCKSTEP_HOST: net.serverIp, LOCKSTEP_LISTEN_IP: net.serverIp } });
  const nodes = new Map<string, Proc>();
  const browser = await launchChromium();
  const startHost = async (h: string): Promise<Proc> => {
    const host = net.hosts.get(h) ?? net.addHost(h);
    return startNode({ url: server.url, hostId: h, ...(host.netns ? { netns: host.netns } : {}) });
  };
  try {
    for (const h of HOSTS) nodes.set(h, await startHost(h));
    say(`server ${server.url}, nodes ${[...net.hosts.values()].map((h) => `${h.hostId}@${h.ip}`).join(', ')}`);
    const v = await ViewerClient.connect(server.url);
    const { session } = await v.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 3,
      width,
      height,
    });
    v.close();
    const sessionId = session.sessionId;
    await waitFor(
      '3 live replicas',
      async () => (await getSession(server.url, sessionId)).replicas.filter((r) => r.state === 'live').length === 3,
      30_000,
    );
    const page = await browser.context.newPage();
    await openViewer(page, server.url, sessionId, mode);
    say(`viewer open (${mode} mode), typing for ${seconds} s, killing the shown renderer every ${killEveryMs} ms`);

    // The typist: a steady stream of keystrokes through the real browser.
    const sentence = 'Lockstep keeps typing while renderers die. ';
    let typed = '';
    let typing = true;
    const typist = (async () => {
      while (typing) {
        for (const ch of sentence) {
          if (!typing) break;
          await page.keyboard.type(ch);
          typed += ch;
          await new Promise((r) => setTimeout(r, 80));
        }
      }
    })();

    const gaps: FailoverObservation[] = [];
    const deadline = Date.now() + seconds * 1000;
    while (Date.now() + killEveryMs < deadline) {
      await new Promise((r) => setTimeout(r, killEveryMs));
      const st = await viewerPageState(page);
      const host = st?.liveHostId;
      const node = host ? nodes.get(host) : undefined;
      if (!st?.liveReplicaId || !host || !node) continue;
      const killedAt = Date.now();
      await node.kill('SIGKILL');
      const obs = await observeFailover(page, st.liveReplicaId, st.displayedSeq, killedAt);
      gaps.push(obs);
      say(`kill ${gaps.length}: ${host} → ${obs.toHost ?? '?'} in ${obs.gapMs} ms`);
      // The host comes back (a rebooted PC rejoining) and R is restored.
      setTimeout(() => {
        startHost(host).then(
          (p) => nodes.set(host, p),
          (err: unknown) => say(`restart of ${host} failed: ${String(err)}`),
        );
      }, 1000);
    }
    typing = false;
    await typist;

    await waitFor('inputs acknowledged', async () => (await viewerPageState(page))?.pendingInputs === 0, 20_000);
    const final: SessionInfo = await waitFor(
      'replicas converged',
      async () => {
        const s = await getSession(server.url, sessionId);
        const live = s.replicas.filter((r) => r.state === 'live');
        return live.length === 3 && live.every((r) => r.appliedSeq === s.headSeq && r.stateHash === live[0]?.stateHash)
          ? s
          : undefined;
      },
      30_000,
    ).catch(() => getSession(server.url, sessionId));

    // The durable record (snapshot + log tail) replayed with the app's own code.
    const text = ((await referenceState(server.url, 'writer', width, height, sessionId)) as WriterState).text;
    const keydowns = text.length;
    const gapsMs = gaps.map((g) => g.gapMs);
    const finalHashes = Object.fromEntries(final.replicas.map((r) => [`${r.hostId}/${r.replicaId}`, r.stateHash]));
    const hashes = final.replicas.filter((r) => r.state === 'live').map((r) => r.stateHash);
    return {
      network: net.mode,
      mode,
      seconds,
      kills: gaps.length,
      gapsMs,
      gapP50Ms: percentile(gapsMs, 50),
      gapMaxMs: gapsMs.length ? Math.max(...gapsMs) : NaN,
      typedChars: typed.length,
      loggedChars: keydowns,
      lostInputs: typed.length - keydowns,
      textMatches: text === typed,
      finalHashes,
      hashesEqual: hashes.length > 0 && hashes.every((h) => h === hashes[0]),
    };
  } finally {
    await browser.close();
    await stopAll();
    removeDir(server.dataDir);
    net.close();
  }
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runFailoverDemo().then(
    (r) => {
      say('--- report ---');
      say(`network: ${r.network}, mode: ${r.mode}, duration: ${r.seconds} s`);
      say(`kills: ${r.kills}`);
      say(`visible gap per kill (ms): ${r.gapsMs.join(', ')}`);
      say(`gap p50: ${r.gapP50Ms} ms, longest: ${r.gapMaxMs} ms`);
      say(`typed: ${r.typedChars} chars, in the final document: ${r.loggedChars}, lost inputs: ${r.lostInputs}`);
      say(`final document equals what was typed: ${r.textMatches}`);
      for (const [k, h] of Object.entries(r.finalHashes)) say(`final hash ${k}: ${h}`);
      say(`all replica hashes equal: ${r.hashesEqual}`);
      mkdirSync(join(ROOT, 'bench/results'), { recursive: true });
      writeFileSync(join(ROOT, 'bench/results/failover-demo.json'), JSON.stringify(r, null, 2));
      process.exit(r.lostInputs === 0 && r.textMatches && r.hashesEqual ? 0 : 1);
    },
    (err: unknown) => {
      say(`failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
      process.exit(1);
    },
  );
}
