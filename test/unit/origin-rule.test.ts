// The browser-origin rule (server/origin-rule.ts, SECURITY.md "Browser
// origins"): the cluster's pages get CORS as before; another http(s) page only
// on answers to a valid Authorization token (tokens are never cookies), its
// sockets go on to the token check; malformed Origins are refused.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { corsVerdict, originKind, socketVerdict, type BearerState, type OriginKind } from '../../server/origin-rule.js';

const known = ['http://localhost:3000', 'https://b.example:3443'];

describe('origin rule', () => {
  it('classifies an Origin by the Host it reached, the known origins and its form', () => {
    assert.equal(originKind(undefined, 'localhost:3000', false, known), 'none');
    assert.equal(
      originKind('http://127.0.0.1:3000', '127.0.0.1:3000', false, []),
      'cluster',
      'the Host it was reached by',
    );
    assert.equal(originKind('http://LAN-Box:3000'.toLowerCase(), 'LAN-BOX:3000', false, []), 'cluster');
    assert.equal(originKind('https://127.0.0.1:3000', '127.0.0.1:3000', false, []), 'foreign', 'another scheme');
    assert.equal(originKind('http://localhost:3000', '127.0.0.1:3000', false, known), 'cluster', 'advertised');
    assert.equal(originKind('https://b.example:3443', 'x:1', false, known), 'cluster');
    assert.equal(originKind('http://127.0.0.1:3000', 'localhost:3000', false, known), 'foreign', 'another name');
    assert.equal(originKind('http://evil.example', 'localhost:3000', false, known), 'foreign');
    for (const bad of ['null', 'file://', 'chrome-extension://abc', 'http://a.example/path', 'not a url', '']) {
      assert.equal(originKind(bad, 'localhost:3000', false, known), 'malformed', bad);
    }
  });

  it('grants CORS to a foreign page only on an answer to a valid token; preflights carry none', () => {
    const cases: Array<[OriginKind, boolean, BearerState, string]> = [
      ['cluster', false, 'absent', 'grant'],
      ['cluster', false, 'refused', 'grant'],
      ['cluster', true, 'absent', 'grant'],
      ['foreign', true, 'absent', 'grant'],
      ['foreign', false, 'valid', 'grant'],
      ['foreign', false, 'absent', 'none'],
      ['foreign', false, 'refused', 'none'],
      ['malformed', true, 'absent', 'refuse'],
      ['malformed', false, 'valid', 'none'],
      ['none', false, 'valid', 'none'],
      ['none', true, 'absent', 'none'],
    ];
    for (const [kind, preflight, bearer, want] of cases) {
      assert.equal(corsVerdict(kind, preflight, bearer), want, `${kind} preflight=${preflight} ${bearer}`);
    }
  });

  it('lets every http(s) page and every non-browser client on to the socket token check, no malformed Origin', () => {
    for (const kind of ['none', 'cluster', 'foreign'] as const) assert.equal(socketVerdict(kind, 'http://x'), null);
    assert.match(socketVerdict('malformed', 'null') ?? '', /^forbidden: origin null is not an http\(s\) origin/);
  });
});
