// The renderer node's parser of its server's acks (render/renderer-node.ts parseNodeReply): what a real
// server answers passes (unknown keys dropped), every malformed ack or data is a MalformedReplyError, and
// nothing at all makes it throw.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { NodeRequest } from '../../protocol/signalling.js';
import { MalformedReplyError } from '../../render/errors.js';
import { parseNodeReply } from '../../render/renderer-node.js';
import { exoticValues, randomValue, seededRandom } from '../helpers/fuzz-values.js';

const HASH = 'a'.repeat(64);

/** What a real server answers each request with (data only). */
const GOOD: { [T in NodeRequest['type']]: unknown } = {
  'node.register': { registered: true, hostId: 'host-a', credential: 'lsn_abc.def', credentialExpiresAt: 1 },
  'transport.create': {
    id: 'c2b6a0a4-6f0e-4a59-9d8b-9a3f7b1c2d3e',
    iceParameters: { usernameFragment: 'u', password: 'p', iceLite: true },
    iceCandidates: [
      { foundation: 'udpcandidate', priority: 1076302079, ip: '127.0.0.1', protocol: 'udp', port: 40000, type: 'host' },
    ],
    dtlsParameters: { role: 'auto', fingerprints: [{ algorithm: 'sha-256', value: 'AB:CD' }] },
    sctpParameters: {
      port: 5000,
      OS: 1024,
      MIS: 1024,
      maxMessageSize: 262144,
      sctpBufferedAmount: 0,
      isDataChannel: true,
    },
    routerRtpCapabilities: {
      codecs: [{ kind: 'video', mimeType: 'video/VP8', preferredPayloadType: 101, clockRate: 90000, parameters: {} }],
      headerExtensions: [],
    },
  },
  'transport.connect': { connected: true },
  produce: { producerId: 'p-1' },
  produceData: { dataProducerId: 'dp-1' },
  'replica.status': { headSeq: 12 },
  'inputs.fetch': { inputs: [], headSeq: 3, compactedThrough: 0 },
  'node.leave': { left: true },
  'node.heartbeat': { ok: true },
  'node.ping': { ok: true },
  'node.bundles': { ok: true },
  'bundle.fetch': { hash: HASH, size: 10, offset: 0, data: 'AAAA' },
  'replica.snapshot': { stored: true, confirmed: false },
  'snapshot.fetch': null,
  'replica.refuse': { ok: true },
  'replica.failed': { ok: true },
  'replica.thumbnailOffer': { wanted: false },
  'replica.thumbnail': { stored: false, wanted: false },
  'replica.copyResult': { ok: true },
  'replica.exportResult': { ok: true },
};
const TYPES = Object.keys(GOOD) as NodeRequest['type'][];

test('what a real server answers passes, with keys the node does not read dropped', () => {
  for (const type of TYPES) {
    const res = parseNodeReply(type, { ok: true, data: GOOD[type] });
    assert.ok(!(res instanceof MalformedReplyError), `${type}: ${res instanceof Error ? res.message : ''}`);
    assert.equal(res.ok, true);
  }
  const t = parseNodeReply('transport.create', { ok: true, data: GOOD['transport.create'] });
  assert.ok(!(t instanceof MalformedReplyError) && t.ok);
  assert.deepEqual(t.data.sctpParameters, { port: 5000, OS: 1024, MIS: 1024, maxMessageSize: 262144 });
  const refusal = parseNodeReply('produce', { ok: false, error: { code: 'forbidden', message: 'no' } });
  assert.deepEqual(refusal, { ok: false, error: { code: 'forbidden', message: 'no' } });
});

test('malformed acks and data are MalformedReplyErrors naming the request', () => {
  const bad: [NodeRequest['type'], unknown][] = [
    ['node.heartbeat', null],
    ['node.heartbeat', 'x'.repeat(100_000)],
    ['node.heartbeat', { ok: 'yes', data: { ok: true } }],
    ['node.register', { ok: true }],
    ['node.register', { ok: true, data: { registered: true, hostId: 'h'.repeat(1_000_000) } }],
    ['node.register', { ok: true, data: { registered: true, hostId: 'h', credential: 'has a space' } }],
    ['node.register', { ok: true, data: { registered: true, hostId: 'h', adopted: [{ replicaId: 'r' }] } }],
    ['replica.status', { ok: true, data: { headSeq: -1 } }],
    ['replica.status', { ok: true, data: { headSeq: '12' } }],
    ['inputs.fetch', { ok: true, data: { inputs: [{ seq: 0 }], headSeq: 1, compactedThrough: 0 } }],
    ['snapshot.fetch', { ok: true, data: { seq: 1, stateHash: 'zz', data: 'AAAA' } }],
    ['transport.create', { ok: true, data: { ...(GOOD['transport.create'] as object), iceCandidates: 'x' } }],
    ['transport.create', { ok: true, data: { ...(GOOD['transport.create'] as object), routerRtpCapabilities: null } }],
    ['produce', { ok: true, data: { producerId: 42 } }],
    ['produce', { ok: false, error: { code: 'no-such-code', message: 'x' } }],
    ['produce', { ok: false, error: { code: 'forbidden', message: 'm'.repeat(5000) } }],
  ];
  for (const [type, raw] of bad) {
    const res = parseNodeReply(type, raw);
    assert.ok(res instanceof MalformedReplyError, `${type} ${JSON.stringify(raw).slice(0, 100)}`);
    assert.equal(res.request, type);
    assert.ok(res.message.length < 1000, 'the error stays short whatever the reply held');
  }
});

test('parseNodeReply never throws, whatever the ack is', () => {
  const rnd = seededRandom(0xac4);
  const values: unknown[] = [...exoticValues('ok'), undefined];
  for (let i = 0; i < 3000; i++) values.push(randomValue(rnd, 0), { ok: true, data: randomValue(rnd, 0) });
  let accepted = 0;
  for (const v of values) {
    for (const type of TYPES) {
      const res = parseNodeReply(type, v);
      if (!(res instanceof MalformedReplyError)) accepted++;
    }
  }
  // Random values are essentially never a well-formed answer (an `{ ok: false }` with a known code may be).
  assert.ok(accepted < values.length, `accepted ${accepted}`);
});
