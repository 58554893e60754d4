// What the cluster tests do around a writer session on a LocalCluster: create
// it and wait for live replicas on distinct hosts, and at the end check the
// log against what a ResendingTypist had acknowledged; a typist through every
// server at about 20 keys/s.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { WriterState } from '../../render/apps/writer/index.js';
import { LocalCluster, type LocalClusterOptions } from '../../scripts/lib/local-cluster.js';
import { fetchLog } from '../../scripts/lib/reference-state.js';
import { stopAll } from './processes.js';
import { referenceState } from './reference-render.js';
import { keyDown } from './key-input.js';
import { ResendingTypist, type TypedInput } from './resending-typist.js';
import { TestViewer, waitFor } from './viewer-client.js';

/**
 * The suite's cluster: 3 servers over a 3-member etcd and 3 nodes on 127.0.0.1
 * with free ports, no snapshot truncating the log the test checks; created
 * before the suite, closed after it. Call the returned function inside tests.
 */
export function loopbackClusterForSuite(extraServerEnv: Record<string, string> = {}): () => LocalCluster {
  let cluster: LocalCluster | undefined;
  const opts: LocalClusterOptions = {
    servers: 3,
    nodes: 3,
    loopback: true,
    serverEnv: { LOCKSTEP_SNAPSHOT_EVERY: '100000', ...extraServerEnv },
  };
  before(async () => {
    cluster = await LocalCluster.create(opts);
  });
  after(async () => {
    await cluster?.close();
    await stopAll();
  });
  return () => {
    assert.ok(cluster, 'the suite cluster was created');
    return cluster;
  };
}

/** Creates a writer session through server 0 and waits for live replicas on `r` distinct hosts; its id. */
export async function liveClusterSession(
  cluster: LocalCluster,
  r: number,
  size: { width: number; height: number },
): Promise<string> {
  const viewer = await TestViewer.connect(cluster.server(0).url);
  const { session } = await viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: r, ...size });
  viewer.close();
  await waitFor(
    `live replicas of ${session.sessionId} on ${r} hosts`,
    async () => {
      const { replicas } = await cluster.sessionReplicas(session.sessionId);
      return new Set(replicas.filter((x) => x.state === 'live').map((x) => x.hostId)).size === r;
    },
    60_000,
    200,
  );
  return session.sessionId;
}

/**
 * The log on a live server: seqs dense from 1, every acknowledged input of
 * `clientId` in it exactly once at the seq its ack named, and the document
 * exactly `typed`. Returns the other inputs in the log (for a diagnostic).
 */
export async function assertTypedExactlyOnce(
  cluster: LocalCluster,
  sessionId: string,
  check: { clientId: string; acked: readonly TypedInput[]; typed: string; width: number; height: number },
): Promise<string[]> {
  const live = cluster.liveServers()[0];
  assert.ok(live, 'a live server');
  const log = await fetchLog(live.url, sessionId);
  assert.deepEqual(
    log.map((e) => e.seq),
    Array.from({ length: log.length }, (_, i) => i + 1),
    'dense seqs',
  );
  // The server scopes client ids by credential (`o.<owner digest>:<client id>`).
  const mine = log.filter((e) => e.clientId.endsWith(`:${check.clientId}`));
  assert.equal(mine.length, check.acked.length, 'every acknowledged input logged, none twice');
  assert.equal(new Set(mine.map((e) => e.clientSeq)).size, mine.length, 'no (client id, client seq) twice');
  const bySeq = new Map(log.map((e) => [e.seq, e.clientSeq]));
  for (const a of check.acked)
    assert.equal(bySeq.get(a.seq), a.clientSeq, `ack of clientSeq ${a.clientSeq} named its seq`);
  const state = (await referenceState(live.url, 'writer', check.width, check.height, sessionId)) as WriterState;
  assert.equal(state.text, check.typed, 'the document is exactly what was typed');
  return log
    .filter((e) => !e.clientId.endsWith(`:${check.clientId}`))
    .map((e) => `${e.seq} ${e.clientId} ${e.event.type}`);
}

/** A typist through every server of the cluster (resending through another when no ack comes), ~20 keys/s. */
export class ClusterTyping {
  readonly typist: ResendingTypist;
  readonly #words: string;
  /** Everything sent so far, acknowledged or not yet. */
  typed = '';

  constructor(cluster: LocalCluster, sessionId: string, clientId: string, words: string) {
    this.typist = new ResendingTypist({
      urls: cluster.servers.map((s) => s.url),
      sessionId,
      clientId,
      ackTimeoutMs: 500,
    });
    this.#words = words;
  }

  /** Types the next `n` characters of the words, one at a time, each acknowledged before the next. */
  async type(n: number): Promise<TypedInput[]> {
    const out: TypedInput[] = [];
    for (let i = 0; i < n; i++) {
      const ch = this.#words[this.typed.length % this.#words.length] ?? ' ';
      out.push(await this.typist.send(keyDown(ch)));
      this.typed += ch;
      await new Promise((r) => setTimeout(r, 50));
    }
    return out;
  }

  close(): void {
    this.typist.close();
  }
}
