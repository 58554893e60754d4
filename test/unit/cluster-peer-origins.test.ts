// A viewer page served by one server of the cluster reaches the others: their
// origins are in connect-src (and get CORS: peer-cors.ts), and stay so
// after a server leaves the registry (its pages keep reconnecting elsewhere).
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import type { ServerInfo } from '../../protocol/cluster.js';
import { PeerOrigins } from '../../server/cluster/peer-origins.js';
import { contentSecurityPolicy, originVerdict, registryOrigins } from '../../server/web-guards.js';

const config = { tls: null, security: { allowedOrigins: [] as string[] } } as unknown as Parameters<
  typeof originVerdict
>[2];

const server = (id: string, url: string): ServerInfo => ({ id, url, sfuCapacity: 10, startedAt: 1 });

describe('cluster peer origins', () => {
  it('any http(s) page goes on to the socket token check (origin-rule.ts); a malformed Origin does not', () => {
    const peers = ['http://10.0.0.2:3000'];
    assert.equal(originVerdict('http://10.0.0.2:3000', '10.0.0.1:3000', config, peers), null);
    assert.equal(originVerdict('http://10.0.0.1:3000', '10.0.0.1:3000', config, peers), null, 'its own');
    assert.equal(originVerdict('http://evil.example', '10.0.0.1:3000', config, peers), null, 'its token decides');
    assert.equal(originVerdict(undefined, '10.0.0.1:3000', config), null, 'no Origin: a node or CLI');
    assert.match(originVerdict('null', '10.0.0.1:3000', config, peers) ?? '', /^forbidden/);
  });

  it('connect-src names the peers (http and ws forms), and only self without them', () => {
    assert.match(contentSecurityPolicy(), /connect-src 'self';/);
    const csp = contentSecurityPolicy(['https://b.example:3000']);
    assert.match(csp, /connect-src 'self' https:\/\/b\.example:3000 wss:\/\/b\.example:3000;/);
    assert.match(csp, /script-src 'self';/, 'scripts still only from the server itself');
  });

  it('remembers servers that left the registry, origins only', () => {
    let live = [server('a', 'http://10.0.0.1:3000/'), server('b', 'http://10.0.0.2:3000')];
    const origins = new PeerOrigins(() => live);
    assert.deepEqual(origins.current(), ['http://10.0.0.1:3000', 'http://10.0.0.2:3000']);
    live = [server('b', 'http://10.0.0.2:3000')];
    assert.deepEqual(origins.current(), ['http://10.0.0.1:3000', 'http://10.0.0.2:3000'], 'a is gone but remembered');
    assert.deepEqual(registryOrigins([{ url: 'not a url' }, { url: 'ftp://x/' }, { url: 'https://c:1/x' }]), [
      'https://c:1',
    ]);
  });
});
