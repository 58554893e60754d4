// The cluster secret: required with etcd unless insecure dev, MACs bind their
// purpose and payload, and signed requests are refused when altered, stale or
// unsigned.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ClusterAuthError, ClusterConfigError } from '../../server/cluster/cluster-errors.js';
import { CLUSTER_MAC_HEADER, CLUSTER_TIME_HEADER, ClusterSecret } from '../../server/cluster/cluster-secret.js';

const SECRET = 'x'.repeat(40);

describe('ClusterSecret', () => {
  it('is required (and long enough) unless LOCKSTEP_INSECURE_DEV', () => {
    assert.throws(() => ClusterSecret.fromConfig(undefined, false), ClusterConfigError);
    assert.throws(() => ClusterSecret.fromConfig('short', false), ClusterConfigError);
    assert.equal(ClusterSecret.fromConfig(undefined, true).insecure, true);
    assert.equal(ClusterSecret.fromConfig(SECRET, false).insecure, false);
  });

  it('a MAC verifies only for its own secret, purpose and payload', () => {
    const s = ClusterSecret.fromConfig(SECRET, false);
    const other = ClusterSecret.fromConfig('y'.repeat(40), false);
    const mac = s.sign('entry', 'payload');
    assert.equal(s.verify('entry', 'payload', mac), true);
    assert.equal(s.verify('entry', 'payload!', mac), false);
    assert.equal(s.verify('request', 'payload', mac), false);
    assert.equal(other.verify('entry', 'payload', mac), false);
    assert.equal(s.verify('entry', 'payload', ''), false);
    assert.equal(s.verify('entry', 'payload', 'not base64 at all %%%'), false);
  });

  it('signed requests: accepted as sent, refused altered, stale or unsigned', () => {
    const s = ClusterSecret.fromConfig(SECRET, false);
    const req = { method: 'POST', path: '/api/cluster/x?y=1', body: '{"a":1}' };
    const now = 1_800_000_000_000;
    const h = s.requestHeaders(req, now);
    const time = h[CLUSTER_TIME_HEADER];
    const mac = h[CLUSTER_MAC_HEADER];
    s.verifyRequest(req, time, mac, now + 1000);
    assert.throws(() => s.verifyRequest({ ...req, body: '{"a":2}' }, time, mac, now), ClusterAuthError);
    assert.throws(() => s.verifyRequest({ ...req, path: '/api/cluster/z' }, time, mac, now), ClusterAuthError);
    assert.throws(() => s.verifyRequest(req, time, mac, now + 60_000), ClusterAuthError);
    assert.throws(() => s.verifyRequest(req, undefined, mac, now), ClusterAuthError);
    assert.throws(() => s.verifyRequest(req, 'soon', mac, now), ClusterAuthError);
  });
});
