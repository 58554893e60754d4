// The viewer's token check (viewer/token-intake.ts checkToken) through the
// cluster (cluster-rest.ts), with a fake fetch: the page's own server first,
// another when it is dead or answers 5xx; a 401 from whichever answers is
// "invalid"; a malformed answer is not taken. And the servers this browser
// remembers for it (viewer/known-servers.ts): http(s) origins only, bounded.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { checkToken, parseWhoAmI } from '../../viewer/token-intake.js';
import { ServerList } from '../../viewer/server-list.js';
import { loadKnownServers, MAX_KNOWN, saveKnownServers } from '../../viewer/known-servers.js';

const A = 'http://127.0.0.1:3000';
const B = 'http://10.0.0.2:3000';
const OWNER = { kind: 'owner', owner: 'ada', admin: false };

/** Servers that are down or answer with a status and a body; records every call's URL and Authorization. */
function fakeFetch(answers: Record<string, 'down' | [number, unknown]>) {
  const calls: Array<[string, string | null]> = [];
  const fn = ((input: string, init?: RequestInit) => {
    const url = String(input);
    calls.push([url, new Headers(init?.headers).get('authorization')]);
    const a = answers[new URL(url).origin];
    if (a === undefined || a === 'down') return Promise.reject(new TypeError('Failed to fetch'));
    return Promise.resolve(new Response(JSON.stringify(a[1]), { status: a[0] }));
  }) as typeof fetch;
  return { fn, calls };
}

function servers(): ServerList {
  const list = new ServerList(A);
  list.update([B]);
  return list;
}

describe('checkToken through the cluster', () => {
  it('asks the page’s own server with the token, and only it while it answers', async () => {
    const f = fakeFetch({ [A]: [200, OWNER], [B]: [200, { kind: 'owner', owner: 'mallory', admin: true }] });
    assert.deepEqual(await checkToken('lso_t', servers(), { fetch: f.fn }), OWNER);
    assert.deepEqual(f.calls, [[`${A}/api/whoami`, 'Bearer lso_t']]);
  });

  it('the page’s server died after the page loaded: another server of the cluster answers', async () => {
    const f = fakeFetch({ [A]: 'down', [B]: [200, OWNER] });
    assert.deepEqual(await checkToken('lso_t', servers(), { fetch: f.fn }), OWNER);
    assert.deepEqual(
      f.calls.map((c) => c[0]),
      [`${A}/api/whoami`, `${B}/api/whoami`],
    );
    const g = fakeFetch({ [A]: [503, { error: { message: 'store down' } }], [B]: [401, {}] });
    assert.deepEqual(await checkToken('lso_t', servers(), { fetch: g.fn }), { kind: 'invalid' });
  });

  it('nothing answers, only 5xx, or a malformed answer: unreachable, never a made-up identity', async () => {
    const down = fakeFetch({});
    assert.deepEqual(await checkToken('lso_t', servers(), { fetch: down.fn }), { kind: 'unreachable' });
    const busy = fakeFetch({ [A]: [503, {}], [B]: [500, {}] });
    assert.deepEqual(await checkToken('lso_t', servers(), { fetch: busy.fn }), { kind: 'unreachable' });
    const odd = fakeFetch({ [A]: [200, { kind: 'owner', owner: 7 }] });
    assert.deepEqual(await checkToken('lso_t', servers(), { fetch: odd.fn }), { kind: 'unreachable' });
    assert.equal(parseWhoAmI({ kind: 'share', role: 'admin', sessionId: 's' }), null);
    assert.deepEqual(parseWhoAmI({ kind: 'share', role: 'view', sessionId: 's', extra: 1 }), {
      kind: 'share',
      role: 'view',
      sessionId: 's',
    });
  });

  it('remembers the cluster’s servers as http(s) origins, at most MAX_KNOWN, and survives junk', () => {
    const store = new Map<string, string>();
    const storage = {
      getItem: (k: string) => store.get(k) ?? null,
      setItem: (k: string, v: string) => store.set(k, v),
    };
    assert.deepEqual(loadKnownServers(storage), []);
    saveKnownServers(storage, [`${B}/`, 'javascript:alert(1)', 'not a url', B, 'https://c.example:3443/x']);
    assert.deepEqual(loadKnownServers(storage), [B, 'https://c.example:3443']);
    saveKnownServers(
      storage,
      Array.from({ length: 40 }, (_, i) => `http://10.0.1.${i}:3000`),
    );
    assert.equal(loadKnownServers(storage).length, MAX_KNOWN);
    store.set('lockstep.servers', '{"not":"a list"');
    assert.deepEqual(loadKnownServers(storage), []);
    store.set('lockstep.servers', JSON.stringify(['ftp://x', 42, A]));
    assert.deepEqual(loadKnownServers(storage), [A]);
    assert.deepEqual(loadKnownServers(null), []);
  });
});
