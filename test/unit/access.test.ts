// The access rules built on the token store (owner vs share link vs node
// credential, join token), on SQLite; the store itself has a contract suite
// run on SQLite and etcd (test/integration/token-store-contract.test.ts).
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { Access, OPERATOR_OWNER } from '../../server/access.js';
import type { SecurityConfig } from '../../server/config.js';
import { openDatabase } from '../../server/database.js';
import { ConfigError } from '../../server/errors.js';
import { SqliteTokenStore } from '../../server/sqlite-token-store.js';

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

describe('Access', () => {
  it('a shared join token is development mode only; short secrets are refused', async () => {
    const db = openDatabase(':memory:');
    const store = new SqliteTokenStore(db);
    assert.throws(() => new Access(store, security({ joinToken: JOIN })), /development mode/);
    assert.throws(() => new Access(store, security({ joinToken: 'short', insecureDev: true })), ConfigError);
    assert.throws(() => new Access(store, security({ ownerToken: 'short' })), ConfigError);
    // Without dev mode and without host tokens nobody joins.
    assert.equal(await new Access(store, security()).authenticateNode('anything'), null);
    const dev = new Access(store, security({ insecureDev: true }));
    const auth = await dev.authenticateNode('anything');
    assert.equal(auth?.via, 'join');
    assert.equal(auth.admission.hostId, null, 'dev mode trusts the node’s own host id');
    const shared = new Access(store, security({ joinToken: JOIN, insecureDev: true }));
    assert.equal((await shared.authenticateNode(JOIN))?.via, 'join');
    assert.equal(await shared.authenticateNode(`${JOIN}x`), null);
    db.close();
  });

  it('a host token admits one host with the operator’s caps; its node credentials die with it', async () => {
    const db = openDatabase(':memory:');
    const access = new Access(new SqliteTokenStore(db), security());
    const token = await access.hosts.issue('pc-1', { maxReplicas: 2, maxCores: 4 });
    assert.match(token.secret, /^lsh_/);
    await assert.rejects(() => access.hosts.issue('pc-1'), /already has an active join token/);
    const auth = await access.authenticateNode(token.secret);
    assert.equal(auth?.via, 'join');
    assert.deepEqual(auth.admission, { hostId: 'pc-1', admissionId: token.id, maxReplicas: 2, maxCores: 4 });
    const { issued } = await access.issueNodeCredential('node-a', auth.admission, 'pc-1');
    const cred = await access.authenticateNode(issued.secret);
    assert.equal(cred?.via, 'credential');
    assert.deepEqual(cred.admission, auth.admission, 'the credential keeps the admission');
    assert.deepEqual(
      (await access.hosts.list()).map((h) => [h.hostId, h.maxReplicas, h.maxCores]),
      [['pc-1', 2, 4]],
    );
    const revoked = await access.hosts.revoke('pc-1');
    assert.deepEqual(new Set(revoked), new Set([token.id, issued.id]));
    assert.equal(await access.authenticateNode(token.secret), null);
    assert.equal(await access.authenticateNode(issued.secret), null);
    assert.deepEqual(await access.hosts.list(), []);
    await assert.rejects(() => access.hosts.revoke('pc-1'), /no admitted host/);
    // The host can be admitted again, with a new token.
    assert.notEqual((await access.hosts.issue('pc-1')).id, token.id);
    db.close();
  });

  it('bootstraps one operator token, printed once; the env token replaces earlier env tokens', async () => {
    const db = openDatabase(':memory:');
    const access = new Access(new SqliteTokenStore(db), security());
    const first = await access.bootstrap();
    assert.ok(first);
    assert.equal(await access.bootstrap(), undefined, 'not again while one is active');
    const id = await access.authenticateViewer(first);
    assert.equal(id?.owner, OPERATOR_OWNER);
    assert.equal(id?.admin, true);

    const envA = 'envtoken_aaaaaaaaaaaaaaaaaaaaaaaa';
    const envB = 'envtoken_bbbbbbbbbbbbbbbbbbbbbbbb';
    assert.equal(await new Access(new SqliteTokenStore(db), security({ ownerToken: envA })).bootstrap(), undefined);
    assert.ok(await access.authenticateViewer(envA));
    await new Access(new SqliteTokenStore(db), security({ ownerToken: envB })).bootstrap();
    assert.equal(await access.authenticateViewer(envA), null, 'the previous env token is revoked');
    assert.ok(await access.authenticateViewer(envB));
    db.close();
  });

  it('share links are bound to one session and a role, cannot re-share, and are bounded', async () => {
    const db = openDatabase(':memory:');
    const access = new Access(new SqliteTokenStore(db), security());
    const owner = await access.authenticateViewer((await access.bootstrap()) ?? '');
    assert.ok(owner);
    const link = await access.createShare(owner, 's-1', 'view', 3600);
    const viewer = await access.authenticateViewer(link.secret);
    assert.deepEqual(
      { owner: viewer?.owner, role: viewer?.role, sessionId: viewer?.sessionId, kind: viewer?.kind },
      { owner: OPERATOR_OWNER, role: 'view', sessionId: 's-1', kind: 'share' },
    );
    assert.ok(viewer);
    await assert.rejects(() => access.createShare(viewer, 's-1', 'control', 3600), /cannot create share links/);
    // TTL is clamped to 30 days.
    const long = await access.createShare(owner, 's-1', 'control', 10 ** 9);
    assert.ok(long.expiresAt - Date.now() <= 30 * DAY + 1000);
    db.close();
  });

  it('node credentials are bound to a node id', async () => {
    const db = openDatabase(':memory:');
    const access = new Access(new SqliteTokenStore(db), security());
    const host = await access.authenticateNode((await access.hosts.issue('pc-a')).secret);
    assert.ok(host);
    assert.equal(await access.authenticateNode(''), null);
    const { issued } = await access.issueNodeCredential('node-a', host.admission, 'pc-a');
    const auth = await access.authenticateNode(issued.secret);
    assert.equal(auth?.via, 'credential');
    assert.equal(auth?.via === 'credential' ? auth.nodeId : '', 'node-a');
    assert.equal(await access.authenticateViewer(issued.secret), null, 'a node credential is no viewer token');
    // A new credential for the same node id revokes the old one.
    const again = await access.issueNodeCredential('node-a', host.admission, 'pc-a');
    assert.deepEqual(again.revoked, [issued.id]);
    assert.equal(await access.authenticateNode(issued.secret), null);
    db.close();
  });

  it('rotation revokes the presented owner token (and with everything, all shares)', async () => {
    const db = openDatabase(':memory:');
    const access = new Access(new SqliteTokenStore(db), security());
    const secret = (await access.bootstrap()) ?? '';
    const owner = await access.authenticateViewer(secret);
    assert.ok(owner);
    const link = await access.createShare(owner, 's-1', 'view', 3600);
    const { issued, revoked } = await access.rotateOwner(owner, true);
    assert.equal(await access.authenticateViewer(secret), null);
    assert.equal(await access.authenticateViewer(link.secret), null);
    assert.equal(revoked.length, 2);
    assert.equal((await access.authenticateViewer(issued.secret))?.admin, true);
    db.close();
  });
});
