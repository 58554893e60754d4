// Random and hostile values for fuzz tests: seeded, so a failure reproduces.
// Random JSON of every shape, wrong types, big strings, deep nesting,
// prototype-pollution keys, and valid-shaped messages with hostile ids.
import { NO_MODS } from '../../protocol/input.js';

import type { Rnd } from './prng.js';

export type { Rnd };
/** The shared seeded PRNG, under the name the fuzz tests use. */
export { prng as seededRandom } from './prng.js';

const pick = <T>(rnd: Rnd, xs: readonly T[]): T => xs[Math.floor(rnd() * xs.length)] as T;

const VIEWER_TYPES = [
  'sessions.list',
  'apps.list',
  'sessions.create',
  'sessions.close',
  'session.join',
  'session.leave',
  'transport.create',
  'transport.connect',
  'consume',
  'consumer.resume',
  'consumer.pause',
  'consumer.close',
  'input',
  'share.create',
];
const NODE_TYPES = [
  'node.register',
  'transport.create',
  'transport.connect',
  'produce',
  'replica.status',
  'inputs.fetch',
  'node.leave',
  'node.heartbeat',
  'node.ping',
  'replica.snapshot',
  'snapshot.fetch',
  'replica.refuse',
  'replica.failed',
];
const NOTIFY_TYPES = ['replica.create', 'replica.close', 'inputs', 'replica.statusRequest', 'replica.snapshotRequest'];
const KEYS = [
  'type',
  'sessionId',
  'clientId',
  'replicaId',
  'transportId',
  'producerId',
  'consumerId',
  'event',
  'clientSeq',
  'role',
  'ttlSeconds',
  'app',
  'dtlsParameters',
  'rtpParameters',
  'rtpCapabilities',
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
];
const HOSTILE_STRINGS = [
  '',
  ' ',
  '../../etc/passwd',
  '__proto__',
  'constructor',
  "'; DROP TABLE tokens; --",
  '%00',
  '\u0000',
  '\ud800',
  '${7*7}',
  '<script>alert(1)</script>',
  'a'.repeat(65),
  's-' + 'f'.repeat(12),
  'lso_' + 'A'.repeat(32),
];

export function randomString(rnd: Rnd): string {
  const r = rnd();
  if (r < 0.3) return pick(rnd, HOSTILE_STRINGS);
  if (r < 0.35) return 'x'.repeat(Math.floor(rnd() * 200_000));
  const n = Math.floor(rnd() * 40);
  let s = '';
  for (let i = 0; i < n; i++) s += String.fromCharCode(Math.floor(rnd() * (rnd() < 0.8 ? 128 : 0xffff)));
  return s;
}

function randomNumber(rnd: Rnd): number {
  return pick(rnd, [0, -1, 1, 1.5, -0, 2 ** 53, -(2 ** 53), 1e308, -1e308, Number.MAX_SAFE_INTEGER, 3, 400, 65535]);
}

/** Any JSON value, biased toward objects that look like requests. */
export function randomValue(rnd: Rnd, depth: number): unknown {
  const r = rnd();
  if (depth > 4 || r < 0.15) {
    return pick(rnd, [null, true, false, randomNumber(rnd), randomString(rnd)]);
  }
  if (r < 0.3) return Array.from({ length: Math.floor(rnd() * 6) }, () => randomValue(rnd, depth + 1));
  const o: Record<string, unknown> = {};
  const n = Math.floor(rnd() * 6);
  for (let i = 0; i < n; i++) {
    // defineProperty: a literal `__proto__` key must be an own property, as JSON.parse makes it.
    Object.defineProperty(o, pick(rnd, KEYS), {
      value: randomValue(rnd, depth + 1),
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  if (rnd() < 0.7) o.type = pick(rnd, [...VIEWER_TYPES, ...NODE_TYPES, ...NOTIFY_TYPES, randomString(rnd)]);
  return o;
}

/** Nested arrays `depth` deep: stresses recursive parsers. */
export function deepNesting(depth: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < depth; i++) v = i % 2 ? [v] : { type: 'input', event: v };
  return v;
}

/** Valid-shaped viewer requests with hostile or foreign ids and values. */
export function hostileViewerRequests(sessionId: string): unknown[] {
  const key = (k: string) => ({ type: 'key', action: 'down', key: k, code: '', text: k, mods: NO_MODS });
  return [
    { type: 'sessions.list' },
    { type: 'sessions.list', extra: 1 },
    { type: 'session.join', sessionId: 's-000000000000', clientId: 'x' },
    { type: 'session.join', sessionId, clientId: '../../x' },
    { type: 'sessions.close', sessionId: 's-ffffffffffff' },
    { type: 'input', sessionId: 's-000000000000', clientSeq: 0, event: key('a') },
    { type: 'input', sessionId, clientSeq: 0, event: { type: 'paste', text: 'x'.repeat(64 * 1024 + 1) } },
    { type: 'input', sessionId, clientSeq: Number.MAX_SAFE_INTEGER + 2, event: key('a') },
    { type: 'input', sessionId, clientSeq: 1.5, event: key('a') },
    { type: 'input', sessionId, clientSeq: 0, event: { ...key('a'), __proto__: { polluted: true } } },
    JSON.parse('{"type":"input","__proto__":{"polluted":true},"sessionId":"x","clientSeq":0,"event":{}}'),
    JSON.parse('{"type":"sessions.create","app":"writer","constructor":{"prototype":{"polluted":true}}}'),
    { type: 'transport.connect', transportId: 'nope', dtlsParameters: { role: 'client', fingerprints: [] } },
    { type: 'consume', transportId: 'a', producerId: 'b', rtpCapabilities: { codecs: [] }, paused: false },
    { type: 'consumer.resume', consumerId: 'nope' },
    { type: 'share.create', sessionId: 's-000000000000', role: 'control' },
    { type: 'share.create', sessionId, role: 'admin' },
    { type: 'share.create', sessionId, role: 'view', ttlSeconds: 10 ** 12 },
    { type: 'sessions.create', app: 'writer', replicationFactor: 10_000 },
    { type: 'sessions.create', app: 'no-such-app' },
    { type: 'sessions.create', app: 'writer', width: 1e9, height: -1 },
    deepNesting(500),
  ];
}

/** Valid-shaped node requests aimed at replicas and transports that are not the sender's. */
export function hostileNodeRequests(replicaId: string): unknown[] {
  return [
    { type: 'transport.create', replicaId },
    { type: 'inputs.fetch', replicaId, fromSeq: 1, toSeq: 10 },
    { type: 'inputs.fetch', replicaId: 'r-x', fromSeq: 10, toSeq: 1 },
    { type: 'replica.status', replicaId, appliedSeq: 0, stateHash: '0'.repeat(16), framesSent: 0 },
    { type: 'snapshot.fetch', replicaId },
    { type: 'replica.snapshot', replicaId, seq: 1, stateHash: '0'.repeat(16), data: 'AAAA' },
    { type: 'replica.snapshot', replicaId, seq: 1, stateHash: '0'.repeat(16), data: '!!not base64!!' },
    { type: 'produce', replicaId, transportId: 't', kind: 'video', rtpParameters: { codecs: [] } },
    { type: 'produce', replicaId, transportId: 't', kind: 'audio', rtpParameters: {} },
    { type: 'node.heartbeat', load: -1 },
    { type: 'node.heartbeat', load: Number.NaN },
    { type: 'replica.refuse', replicaId, reason: 'x'.repeat(501) },
    { type: 'replica.refuse', replicaId, code: 'because', reason: 'x' },
    { type: 'replica.failed', replicaId, reason: 'app-threw', seq: -1, message: 'x' },
    { type: 'replica.failed', replicaId, reason: 'bored', seq: 1, message: 'x' },
    { type: 'replica.failed', replicaId, reason: 'app-threw', seq: 1, message: 'x'.repeat(301) },
    { type: 'replica.failed', replicaId: 'r-not-mine', reason: 'app-threw', seq: 0, message: 'x' },
    { type: 'node.register', nodeId: '__proto__', hostId: 'h', apps: [], capacity: { cores: 1, maxReplicas: 0 } },
    deepNesting(500),
  ];
}

/**
 * Values a JSON socket cannot even carry, for parsers that must never throw: an object whose `key` getter
 * throws, a revoked proxy, a symbol, a function, a bigint.
 */
export function exoticValues(key: string): unknown[] {
  const throwing = Object.defineProperty({}, key, {
    enumerable: true,
    get() {
      throw new Error('boom');
    },
  });
  const revoked = Proxy.revocable({}, {});
  revoked.revoke();
  return [throwing, revoked.proxy, Symbol('x'), () => 1, 10n];
}

/** Notifications a (compromised) server could push at a node. */
export function hostileNodeNotifications(): unknown[] {
  return [
    { type: 'replica.create' },
    {
      type: 'replica.create',
      assignment: {
        replicaId: '../r',
        sessionId: 's',
        app: { name: 'writer', hash: 'zz' },
        width: 1e9,
        height: 1,
        headSeq: -1,
        snapshot: null,
      },
    },
    { type: 'inputs', replicaId: 'r', inputs: Array.from({ length: 2001 }, () => ({})) },
    { type: 'inputs', replicaId: 'r', inputs: [{ seq: 'one' }] },
    { type: 'replica.close', replicaId: 'nope', reason: 'x'.repeat(501) },
    { type: 'replica.close', replicaId: 'nope', reason: 'bye' },
    { type: 'replica.statusRequest', replicaId: 'nope' },
    { type: 'replica.snapshotRequest', replicaId: 'nope' },
    JSON.parse('{"type":"replica.close","__proto__":{"polluted":true},"replicaId":"r","reason":"x"}'),
    deepNesting(500),
  ];
}
