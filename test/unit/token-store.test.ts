// Credentials at rest: random, hashed, expiring, revocable; the access rules
// built on them (owner vs share link vs node credential, join token).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { describe, it } from 'node:test';
import { Access, OPERATOR_OWNER } from '../../server/access.js';
import type { SecurityConfig } from '../../server/config.js';
import { openDatabase } from '../../server/database.js';
import { ConfigError } from '../../server/errors.js';
import { TokenStore } from '../../server/token-store.js';

const DAY = 24 * 3600_000;
const JOIN = 'join_0123456789abcdefghijklmnop';

function security(over: Partial<SecurityConfig> = {}): SecurityConfig {
  return {
    joinToken: undefined,
    insecureDev: false,
    ownerToken: undefined,
    ownerTokenTtlMs: 90 * DAY,
    nodeCredentialTtlMs: 30 * DAY,
    allowedOrigins: [],
    ...over,
  };
}

describe('TokenStore', () => {
  it('issues 192-bit prefixed secrets and stores only their sha256', () => {
    const db = openDatabase(':memory:');
    const store = new TokenStore(db);
    const a = store.issue({ kind: 'owner', owner: 'o', role: 'control', label: 'x', ttlMs: DAY });
    const b = store.issue({ kind: 'share', owner: 'o', role: 'view', sessionId: 's-1', label: 'x', ttlMs: DAY });
    assert.match(a.secret, /^lso_[A-Za-z0-9_-]{32}$/);
    assert.match(b.secret, /^lss_[A-Za-z0-9_-]{32}$/);
    assert.ok(Buffer.from(a.secret.slice(4), 'base64url').length >= 16, 'at least 128 bits');
    const rows = db.prepare('SELECT * FROM tokens').all() as Record<string, unknown>[];
    const dump = JSON.stringify(rows);
    assert.ok(!dump.includes(a.secret) && !dump.includes(a.secret.slice(4)), 'secret not stored');
    assert.ok(dump.includes(createHash('sha256').update(a.secret).digest('hex')));
    assert.equal(store.verify(a.secret)?.owner, 'o');
    assert.equal(store.verify(b.secret)?.sessionId, 's-1');
    db.close();
  });

  it('refuses unknown, tampered, expired and revoked secrets', () => {
    let now = 1_000_000;
    const db = openDatabase(':memory:');
    const store = new TokenStore(db, () => now);
    const t = store.issue({ kind: 'owner', owner: 'o', role: 'control', label: 'x', ttlMs: 1000 });
    assert.ok(store.verify(t.secret));
    assert.equal(store.verify(`${t.secret.slice(0, -1)}${t.secret.endsWith('A') ? 'B' : 'A'}`), null);
    assert.equal(store.verify(''), null);
    assert.equal(store.verify('x'.repeat(10_000)), null);
    now += 1000;
    assert.equal(store.verify(t.secret), null, 'expired');
    const u = store.issue({ kind: 'owner', owner: 'o', role: 'control', label: 'x', ttlMs: DAY });
    assert.ok(store.isActive(u.id));
    assert.equal(store.revoke(u.id), true);
    assert.equal(store.verify(u.secret), null, 'revoked');
    assert.equal(store.isActive(u.id), false);
    db.close();
  });
});

describe('Access', () => {
  it('a shared join token is development mode only; short secrets are refused', () => {
    const db = openDatabase(':memory:');
    const store = new TokenStore(db);
    assert.throws(() => new Access(store, security({ joinToken: JOIN })), /development mode/);
    assert.throws(() => new Access(store, security({ joinToken: 'short', insecureDev: true })), ConfigError);
    assert.throws(() => new Access(store, security({ ownerToken: 'short' })), ConfigError);
    // Without dev mode and without host tokens nobody joins.
    assert.equal(new Access(store, security()).authenticateNode('anything'), null);
    const dev = new Access(store, security({ insecureDev: true }));
    const auth = dev.authenticateNode('anything');
    assert.equal(auth?.via, 'join');
    assert.equal(auth.admission.hostId, null, 'dev mode trusts the node’s own host id');
    const shared = new Access(store, security({ joinToken: JOIN, insecureDev: true }));
    assert.equal(shared.authenticateNode(JOIN)?.via, 'join');
    assert.equal(shared.authenticateNode(`${JOIN}x`), null);
    db.close();
  });

  it('a host token admits one host with the operator’s caps; its node credentials die with it', () => {
    const db = openDatabase(':memory:');
    const access = new Access(new TokenStore(db), security());
    const token = access.hosts.issue('pc-1', { maxReplicas: 2, maxCores: 4 });
    assert.match(token.secret, /^lsh_/);
    assert.throws(() => access.hosts.issue('pc-1'), /already has an active join token/);
    const auth = access.authenticateNode(token.secret);
    assert.equal(auth?.via, 'join');
    assert.deepEqual(auth.admission, { hostId: 'pc-1', admissionId: token.id, maxReplicas: 2, maxCores: 4 });
    const { issued } = access.issueNodeCredential('node-a', auth.admission, 'pc-1');
    const cred = access.authenticateNode(issued.secret);
    assert.equal(cred?.via, 'credential');
    assert.deepEqual(cred.admission, auth.admission, 'the credential keeps the admission');
    assert.deepEqual(
      access.hosts.list().map((h) => [h.hostId, h.maxReplicas, h.maxCores]),
      [['pc-1', 2, 4]],
    );
    const revoked = access.hosts.revoke('pc-1');
    assert.deepEqual(new Set(revoked), new Set([token.id, issued.id]));
    assert.equal(access.authenticateNode(token.secret), null);
    assert.equal(access.authenticateNode(issued.secret), null);
    assert.deepEqual(access.hosts.list(), []);
    assert.throws(() => access.hosts.revoke('pc-1'), /no admitted host/);
    // The host can be admitted again, with a new token.
    assert.notEqual(access.hosts.issue('pc-1').id, token.id);
    db.close();
  });

  it('bootstraps one operator token, printed once; the env token replaces earlier env tokens', () => {
    const db = openDatabase(':memory:');
    const access = new Access(new TokenStore(db), security());
    const first = access.bootstrap();
    assert.ok(first);
    assert.equal(access.bootstrap(), undefined, 'not again while one is active');
    const id = access.authenticateViewer(first);
    assert.equal(id?.owner, OPERATOR_OWNER);
    assert.equal(id?.admin, true);

    const envA = 'envtoken_aaaaaaaaaaaaaaaaaaaaaaaa';
    const envB = 'envtoken_bbbbbbbbbbbbbbbbbbbbbbbb';
    assert.equal(new Access(new TokenStore(db), security({ ownerToken: envA })).bootstrap(), undefined);
    assert.ok(access.authenticateViewer(envA));
    new Access(new TokenStore(db), security({ ownerToken: envB })).bootstrap();
    assert.equal(access.authenticateViewer(envA), null, 'the previous env token is revoked');
    assert.ok(access.authenticateViewer(envB));
    db.close();
  });

  it('share links are bound to one session and a role, cannot re-share, and are bounded', () => {
    const db = openDatabase(':memory:');
    const access = new Access(new TokenStore(db), security());
    const owner = access.authenticateViewer(access.bootstrap() ?? '');
    assert.ok(owner);
    const link = access.createShare(owner, 's-1', 'view', 3600);
    const viewer = access.authenticateViewer(link.secret);
    assert.deepEqual(
      { owner: viewer?.owner, role: viewer?.role, sessionId: viewer?.sessionId, kind: viewer?.kind },
      { owner: OPERATOR_OWNER, role: 'view', sessionId: 's-1', kind: 'share' },
    );
    assert.ok(viewer);
    assert.throws(() => access.createShare(viewer, 's-1', 'control', 3600), /cannot create share links/);
    // TTL is clamped to 30 days.
    const long = access.createShare(owner, 's-1', 'control', 10 ** 9);
    assert.ok(long.expiresAt - Date.now() <= 30 * DAY + 1000);
    db.close();
  });

  it('node credentials are bound to a node id', () => {
    const db = openDatabase(':memory:');
    const access = new Access(new TokenStore(db), security());
    const host = access.authenticateNode(access.hosts.issue('pc-a').secret);
    assert.ok(host);
    assert.equal(access.authenticateNode(''), null);
    const { issued } = access.issueNodeCredential('node-a', host.admission, 'pc-a');
    const auth = access.authenticateNode(issued.secret);
    assert.equal(auth?.via, 'credential');
    assert.equal(auth?.via === 'credential' ? auth.nodeId : '', 'node-a');
    assert.equal(access.authenticateViewer(issued.secret), null, 'a node credential is no viewer token');
    // A new credential for the same node id revokes the old one.
    const again = access.issueNodeCredential('node-a', host.admission, 'pc-a');
    assert.deepEqual(again.revoked, [issued.id]);
    assert.equal(access.authenticateNode(issued.secret), null);
    db.close();
  });

  it('rotation revokes the presented owner token (and with everything, all shares)', () => {
    const db = openDatabase(':memory:');
    const access = new Access(new TokenStore(db), security());
    const secret = access.bootstrap() ?? '';
    const owner = access.authenticateViewer(secret);
    assert.ok(owner);
    const link = access.createShare(owner, 's-1', 'view', 3600);
    const { issued, revoked } = access.rotateOwner(owner, true);
    assert.equal(access.authenticateViewer(secret), null);
    assert.equal(access.authenticateViewer(link.secret), null);
    assert.equal(revoked.length, 2);
    assert.equal(access.authenticateViewer(issued.secret)?.admin, true);
    db.close();
  });
});
