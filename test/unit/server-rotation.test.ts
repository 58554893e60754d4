// Which server a node tries next: given and learned URLs in turn, dead ones
// skipped while their bounded backoff runs, and the server list parsed with care.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { normalizeServerUrls } from '../../render/cli-options.js';
import { MAX_LEARNED_SERVERS, parseServerList, ServerRotation } from '../../render/server-rotation.js';

const A = 'http://a:3000';
const B = 'http://b:3000';
const C = 'http://c:3000';

const rotation = (configured = [A, B]) => new ServerRotation({ configured, baseDelayMs: 250, maxDelayMs: 2000 });

test('the first configured URL is tried first, at once', () => {
  assert.deepEqual(rotation().next(0), { url: A, delayMs: 0 });
  assert.throws(() => rotation([]), /at least one server URL/);
});

test('a failed URL is skipped while another is live; its turn comes back after the backoff', () => {
  const r = rotation();
  let now = 1000;
  assert.equal(r.next(now).url, A);
  r.failed(A, now);
  // B at once: a dead entry costs no wait.
  assert.deepEqual(r.next(now), { url: B, delayMs: 0 });
  r.failed(B, now);
  // Both dead: wait for the one due first (A, 250 ms after its failure).
  now += 100;
  assert.deepEqual(r.next(now), { url: A, delayMs: 150 });
});

test('the backoff doubles per consecutive failure and is bounded', () => {
  const r = rotation([A]);
  const waits: number[] = [];
  let now = 0;
  for (let i = 0; i < 6; i++) {
    r.failed(A, now);
    const { delayMs } = r.next(now);
    waits.push(delayMs);
    now += delayMs;
  }
  assert.deepEqual(waits, [250, 500, 1000, 2000, 2000, 2000]);
  // Registered once: the next failure starts over.
  r.succeeded(A);
  r.failed(A, now);
  assert.equal(r.next(now).delayMs, 250);
});

test('after a loss the node moves on to the next URL, round robin', () => {
  const r = rotation([A, B, C]);
  assert.equal(r.next(0).url, A);
  r.failed(A, 0);
  assert.equal(r.next(0).url, B);
  r.succeeded(B);
  // B dies later: C next, then A once its backoff ran out.
  r.failed(B, 10_000);
  assert.equal(r.next(10_000).url, C);
  r.failed(C, 10_000);
  assert.equal(r.next(10_000).url, A);
});

test('learned URLs join the rotation after the configured ones; configured ones are never dropped', () => {
  const r = rotation([A]);
  r.learn([B, A, C, B]);
  assert.deepEqual(r.urls, [A, B, C]);
  r.learn([]);
  assert.deepEqual(r.urls, [A]);
  const many = Array.from({ length: 100 }, (_, i) => `http://s${i}:3000`);
  r.learn(many);
  assert.equal(r.urls.length, 1 + MAX_LEARNED_SERVERS);
});

test('a server list that is not one is ignored; its URLs are normalized', () => {
  const info = (url: string) => ({ id: 'x', url, sfuCapacity: 10, startedAt: 1 });
  assert.deepEqual(parseServerList({ servers: [info('http://b:3000/'), info('https://c.example/x?y')] }), [
    'http://b:3000',
    'https://c.example',
  ]);
  assert.equal(parseServerList(null), null);
  assert.equal(parseServerList({ servers: 'http://b:3000' }), null);
  assert.equal(parseServerList({ servers: [info('ftp://b')] }), null);
  assert.equal(parseServerList({ servers: [{ url: B }] }), null);
  assert.equal(parseServerList({ servers: [], extra: 1 }), null);
  assert.equal(parseServerList({ servers: Array.from({ length: 100 }, (_, i) => info(`http://s${i}:1`)) })?.length, 32);
});

test('--server takes a comma-separated list', () => {
  assert.deepEqual(normalizeServerUrls(' http://a:3000/?session=s, http://b:3000 ,http://a:3000'), [A, B]);
  assert.throws(() => normalizeServerUrls(' , '), /at least one URL/);
  assert.throws(() => normalizeServerUrls('http://a:3000,ftp://b'), /http:\/\/ or https:\/\//);
});

test('a confirmed move home picks its target next, once, only if the list has it and it is not backing off', () => {
  const r = rotation([A, B, C]);
  assert.equal(r.next(0).url, A);
  assert.equal(r.knows(C), true);
  assert.equal(r.knows('http://evil:3000'), false);
  assert.throws(() => r.prefer('http://evil:3000'), /not in the server list/);
  r.prefer(C);
  assert.deepEqual(r.next(0), { url: C, delayMs: 0 }, 'the target, not the next in turn (B)');
  assert.equal(r.next(0).url, A, 'once: then the rotation goes on after it');
  r.failed(B, 0);
  r.prefer(B);
  assert.notEqual(r.next(10).url, B, 'a target backing off is not forced');
  // A learned URL may be preferred too; one dropped from the list meanwhile is not.
  r.learn(['http://d:3000']);
  r.prefer('http://d:3000');
  r.learn([]);
  assert.notEqual(r.next(10_000).url, 'http://d:3000');
});
