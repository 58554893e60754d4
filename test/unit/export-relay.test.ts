// ExportRelay across servers, with a fake session manager, fake nodes and fake
// peer servers: the asked server counts hosts from its own view, so a relay
// cannot vouch for a replica homed elsewhere or answer for another node, one
// host's file alone is never served, and a relay that fails only loses its
// own replicas' votes.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { PeerExportAnswer, PeerExportRequest } from '../../protocol/cluster.js';
import type { AppFormats } from '../../server/app-formats.js';
import { ConflictError, UnavailableError } from '../../server/errors.js';
import { ExportRelay, type ExportPeers, type RemoteExportTarget } from '../../server/export-relay.js';
import type { SessionManager } from '../../server/session-manager.js';

const APP = { name: 'writer', hash: '0123456789abcdef' };
const b64 = (s: string): string => Buffer.from(s).toString('base64');

interface Sent {
  nodeId: string;
  replicaId: string;
  requestId: string;
  atSeq: number;
}

/** A session s with one live local replica (s.r1 on node n1, host A) at head 7. */
function fakeManager(sent: Sent[], local = [{ replicaId: 's.r1', nodeId: 'n1', hostId: 'A' }]): SessionManager {
  const session = {
    meta: { app: APP, replicationFactor: 3 },
    headSeq: 7,
    activeReplicas: () => local.map((r) => ({ ...r, state: 'live' })),
  };
  const nodes = {
    get: (nodeId: string) =>
      local.some((r) => r.nodeId === nodeId)
        ? {
            notify: (m: { type: string; replicaId: string; requestId: string; atSeq: number }) =>
              sent.push({ nodeId, replicaId: m.replicaId, requestId: m.requestId, atSeq: m.atSeq }),
          }
        : undefined,
  };
  return { get: () => session, nodes } as unknown as SessionManager;
}

const formats = { exportsOf: () => ['txt'] } as unknown as AppFormats;

const REMOTE: RemoteExportTarget[] = [
  { replicaId: 's.r2', nodeId: 'n2', hostId: 'B', homeServerId: 'h2' },
  { replicaId: 's.r3', nodeId: 'n3', hostId: 'C', homeServerId: 'h3' },
];

function peers(answer: (home: string, req: PeerExportRequest) => PeerExportAnswer[]): {
  peers: ExportPeers;
  asked: Array<{ home: string; req: PeerExportRequest }>;
} {
  const asked: Array<{ home: string; req: PeerExportRequest }> = [];
  return {
    asked,
    peers: {
      remoteTargets: () => REMOTE,
      ask: (home, req) => {
        asked.push({ home, req });
        // Answered later, as over the network (a throw is a failed request).
        return Promise.resolve().then(() => answer(home, req));
      },
    },
  };
}

const ans = (replicaId: string, nodeId: string, text: string | null, seq = 7): PeerExportAnswer => ({
  replicaId,
  nodeId,
  seq,
  data: text === null ? null : b64(text),
});

describe('ExportRelay across servers', () => {
  it('asks each home server for its own replicas only, and serves bytes two hosts agree on', async () => {
    const sent: Sent[] = [];
    const relay = new ExportRelay(fakeManager(sent), formats, 2000);
    const p = peers((home) => (home === 'h2' ? [ans('s.r2', 'n2', 'doc')] : [ans('s.r3', 'n3', 'doc')]));
    relay.usePeers(p.peers);
    const file = await relay.export('s', 'txt');
    assert.equal(file.bytes.toString(), 'doc');
    assert.equal(file.seq, 7);
    assert.equal(file.hosts.length, 2);
    assert.deepEqual(p.asked.map((a) => [a.home, a.req.replicaIds, a.req.atSeq]).sort(), [
      ['h2', ['s.r2'], 7],
      ['h3', ['s.r3'], 7],
    ]);
    assert.deepEqual(
      sent.map((x) => x.replicaId),
      ['s.r1'],
      'the local replica is asked through its node',
    );
    relay.close();
  });

  it('mixes a local node answer with a relayed one', async () => {
    const sent: Sent[] = [];
    const relay = new ExportRelay(fakeManager(sent), formats, 2000);
    relay.usePeers(peers((home) => (home === 'h2' ? [ans('s.r2', 'n2', 'doc')] : [])).peers);
    const pending = relay.export('s', 'txt');
    const req = sent[0];
    assert.ok(req);
    relay.answer('n1', 's.r1', req.requestId, 7, b64('doc'));
    const file = await pending;
    assert.deepEqual(file.hosts, ['A', 'B']);
    relay.close();
  });

  it("never counts a relay's answer for a replica homed elsewhere or from another node", async () => {
    const sent: Sent[] = [];
    const relay = new ExportRelay(fakeManager(sent), formats, 300);
    // h2 is hostile: it answers for its replica with a forged file, and for h3's replica and a made-up one too.
    relay.usePeers(
      peers((home) =>
        home === 'h2'
          ? [ans('s.r2', 'n2', 'forged'), ans('s.r3', 'n3', 'forged'), ans('s.r9', 'n9', 'forged')]
          : [ans('s.r3', 'n3-impostor', 'forged')],
      ).peers,
    );
    const pending = relay.export('s', 'txt');
    const req = sent[0];
    assert.ok(req);
    relay.answer('n1', 's.r1', req.requestId, 7, b64('doc'));
    // One forged vote (h2's own) against one genuine: no quorum; h3's impostor answer is not counted for n3.
    await assert.rejects(pending, (e: unknown) => e instanceof ConflictError || e instanceof UnavailableError);
    relay.close();
  });

  it('a failing relay loses only its own votes; answers at another seq are refused', async () => {
    const sent: Sent[] = [];
    const relay = new ExportRelay(fakeManager(sent), formats, 2000);
    relay.usePeers(
      peers((home) => {
        if (home === 'h2') throw new Error('connection refused');
        return [ans('s.r3', 'n3', 'doc')];
      }).peers,
    );
    const ok = relay.export('s', 'txt');
    const req = sent[0];
    assert.ok(req);
    relay.answer('n1', 's.r1', req.requestId, 7, b64('doc'));
    assert.deepEqual((await ok).hosts, ['A', 'C']);

    const sent2: Sent[] = [];
    const relay2 = new ExportRelay(fakeManager(sent2), formats, 2000);
    relay2.usePeers(
      peers((home) => [ans(home === 'h2' ? 's.r2' : 's.r3', home === 'h2' ? 'n2' : 'n3', 'doc', 6)]).peers,
    );
    const stale = relay2.export('s', 'txt');
    const req2 = sent2[0];
    assert.ok(req2);
    relay2.answer('n1', 's.r1', req2.requestId, 7, b64('doc'));
    await assert.rejects(stale, ConflictError, 'two answers at seq 6 do not confirm seq 7');
    relay.close();
    relay2.close();
  });

  it('without peers (a single server) one local replica is no quorum', () => {
    const relay = new ExportRelay(fakeManager([]), formats, 2000);
    assert.throws(() => relay.export('s', 'txt'), UnavailableError);
    relay.close();
  });

  it("relays its own live replicas' answers for another server, and nothing for replicas not here", async () => {
    const sent: Sent[] = [];
    const relay = new ExportRelay(fakeManager(sent), formats, 1000);
    assert.deepEqual(await relay.relay({ sessionId: 's', atSeq: 7, format: 'txt', replicaIds: ['s.r2'] }), []);
    const pending = relay.relay({ sessionId: 's', atSeq: 7, format: 'txt', replicaIds: ['s.r1', 's.r2'] });
    const req = sent[0];
    assert.ok(req);
    assert.equal(req.atSeq, 7);
    assert.throws(() => relay.answer('n2', 's.r1', req.requestId, 7, b64('x')), /no export request/, 'another node');
    relay.answer('n1', 's.r1', req.requestId, 7, b64('doc'));
    assert.deepEqual(await pending, [ans('s.r1', 'n1', 'doc')]);
    // A node that never answers: the relay returns what it has within its timeout (its timer does not hold the loop).
    const hold = setInterval(() => undefined, 50);
    const silent = await relay.relay({ sessionId: 's', atSeq: 7, format: 'txt', replicaIds: ['s.r1'] });
    clearInterval(hold);
    assert.deepEqual(silent, []);
    relay.close();
  });
});
