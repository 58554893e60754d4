// The viewer's REST calls against any live server of the cluster
// (viewer/cluster-rest.ts), with a fake fetch and a fake clock: the page's own
// server first, the next after a network error or a 5xx, dead servers skipped
// with the socket links' backoff, a request that may not be sent twice sent
// once, and a typed error when every server fails.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { ClusterRest, ClusterRestError } from '../../viewer/cluster-rest.js';
import { ServerList } from '../../viewer/server-list.js';

const A = 'http://10.0.0.1:3000';
const B = 'http://10.0.0.2:3000';
const C = 'http://10.0.0.3:3000';

type Behaviour = 'down' | number;

/** A fetch over servers that are down or answer with a status; records every call. */
function fakeCluster(behaviour: Record<string, Behaviour>) {
  const calls: Array<{ url: string; method: string; auth: string | null }> = [];
  const fetchFn = ((input: string, init?: RequestInit) => {
    const url = String(input);
    const headers = new Headers(init?.headers);
    calls.push({ url, method: init?.method ?? 'GET', auth: headers.get('authorization') });
    const origin = new URL(url).origin;
    const b = behaviour[origin];
    if (b === undefined || b === 'down') return Promise.reject(new TypeError('Failed to fetch'));
    const body = b >= 400 ? JSON.stringify({ error: { code: 'x', message: `${origin} says ${b}` } }) : `from ${origin}`;
    return Promise.resolve(new Response(body, { status: b }));
  }) as typeof fetch;
  return { fetchFn, calls };
}

function setup(behaviour: Record<string, Behaviour>) {
  let now = 0;
  const list = new ServerList(A);
  list.update([A, B, C]);
  const cluster = fakeCluster(behaviour);
  const rest = new ClusterRest({ servers: list, token: () => 'lso_t', fetch: cluster.fetchFn, now: () => now });
  return { list, rest, calls: cluster.calls, advance: (ms: number) => (now += ms), now: () => now };
}

describe('ClusterRest', () => {
  it('asks the page’s own server first, with the token, and stops at its answer', async () => {
    const { rest, calls } = setup({ [A]: 200, [B]: 200, [C]: 200 });
    const res = await rest.request({ path: '/api/sessions/s-1/export?format=txt', idempotent: true });
    assert.equal(await res.text(), `from ${A}`);
    assert.deepEqual(calls, [{ url: `${A}/api/sessions/s-1/export?format=txt`, method: 'GET', auth: 'Bearer lso_t' }]);
  });

  it('the page’s server dead: the next answers, and the dead one is skipped while in backoff', async () => {
    const { rest, calls, list, advance, now } = setup({ [A]: 'down', [B]: 200, [C]: 200 });
    const res = await rest.request({ path: '/api/x', idempotent: true });
    assert.equal(await res.text(), `from ${B}`);
    assert.deepEqual(
      calls.map((c) => c.url),
      [`${A}/api/x`, `${B}/api/x`],
    );
    assert.equal(list.failures(A), 1);
    calls.length = 0;
    await rest.request({ path: '/api/x', idempotent: true });
    assert.deepEqual(
      calls.map((c) => c.url),
      [`${B}/api/x`],
      'A is in backoff: not asked',
    );
    advance(60_000);
    assert.ok(list.isDue(A, now()), 'past its backoff A is tried again');
  });

  it('a 5xx moves on (an idempotent request); a 4xx is the answer', async () => {
    const { rest, calls } = setup({ [A]: 503, [B]: 404, [C]: 200 });
    const res = await rest.request({ path: '/api/x', idempotent: true });
    assert.equal(res.status, 404, 'a 4xx is a verdict, not a failure');
    assert.equal(calls.length, 2);
  });

  it('a request that may not be sent twice goes to one server only', async () => {
    const down = setup({ [A]: 'down', [B]: 200, [C]: 200 });
    await assert.rejects(
      down.rest.request({ path: '/api/p', method: 'POST', body: 'x', idempotent: false }),
      (e: unknown) => e instanceof ClusterRestError && e.code === 'unreachable' && e.tried.length === 1,
    );
    assert.equal(down.calls.length, 1);
    const failing = setup({ [A]: 500, [B]: 200, [C]: 200 });
    await assert.rejects(
      failing.rest.request({ path: '/api/p', method: 'POST', body: 'x', idempotent: false }),
      (e: unknown) => e instanceof ClusterRestError && e.code === 'server-error' && e.status === 500,
    );
    assert.equal(failing.calls.length, 1);
  });

  it('every server failing: a typed error (unreachable, or the last 5xx with its message)', async () => {
    const { rest } = setup({ [A]: 'down', [B]: 'down', [C]: 'down' });
    await assert.rejects(
      rest.request({ path: '/api/x', idempotent: true }),
      (e: unknown) =>
        e instanceof ClusterRestError && e.code === 'unreachable' && e.status === null && e.tried.length === 3,
    );
    // All in backoff now: a person's request still tries them all rather than failing untried.
    assert.equal(rest.order().length, 3);
    const answered = setup({ [A]: 'down', [B]: 503, [C]: 502 });
    await assert.rejects(
      answered.rest.request({ path: '/api/x', idempotent: true }),
      (e: unknown) =>
        e instanceof ClusterRestError && e.code === 'server-error' && e.status === 502 && /says 502/.test(e.message),
    );
  });
});
