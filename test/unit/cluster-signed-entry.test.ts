// The one codec of sealed etcd entries: what it seals opens under the same
// secret, purpose and key only; a tampered, foreign, malformed or misfiled
// entry is refused with its typed error (and ignored, logged, by tryOpen); a
// leader's value is written only on the fence of the term it carries.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { z } from 'zod';
import { getLogger } from '../../protocol/logger.js';
import {
  ClusterAuthError,
  EntrySignatureError,
  MalformedEntryError,
  MisfiledEntryError,
  NotLeaderError,
  StaleFenceError,
} from '../../server/cluster/cluster-errors.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import type { FencedOp } from '../../server/cluster/fenced-writer.js';
import type { TermVerdict } from '../../server/cluster/leader-term.js';
import { SignedEntry, type FencedWrites } from '../../server/cluster/signed-entry.js';

const SECRET = ClusterSecret.fromConfig('s'.repeat(40), false);
const OTHER = ClusterSecret.fromConfig('o'.repeat(40), false);
const Thing = z.object({ id: z.string().min(1), n: z.number().int(), term: z.string() }).strict();
type Thing = z.infer<typeof Thing>;
const log = getLogger('signed-entry-test');
const keyOf = (t: Thing): string => `ns/things/${encodeURIComponent(t.id)}`;
const codec = (secret = SECRET, purpose = 'thing'): SignedEntry<Thing> =>
  new SignedEntry({ secret, purpose, schema: Thing, log, keyOf });
const thing = (id = 'a', term = '7'): Thing => ({ id, n: 3, term });

/** A leader's writer as the codec sees it: a term that can move on, and the writes it was asked for. */
class FakeWriter implements FencedWrites {
  current: TermVerdict = { leader: true, revision: '7', remainingMs: 1000 };
  readonly writes: { ops: readonly FencedOp[]; forTerm: string | undefined }[] = [];
  verdict(): TermVerdict {
    return this.current;
  }
  term(): string {
    if (!this.current.leader) throw new NotLeaderError('not leading');
    return this.current.revision;
  }
  write(ops: readonly FencedOp[], forTerm?: string): Promise<string> {
    this.writes.push({ ops, forTerm });
    return Promise.resolve('100');
  }
}

describe('SignedEntry', () => {
  it('opens what it sealed, under the same key', () => {
    const c = codec();
    const key = keyOf(thing());
    assert.deepEqual(c.open(key, c.seal(key, thing())), thing());
    assert.deepEqual(c.tryOpen(key, c.seal(key, thing())), thing());
  });

  it('refuses a tampered entry (payload or MAC altered) with EntrySignatureError', () => {
    const c = codec();
    const key = keyOf(thing());
    const sealed = JSON.parse(c.seal(key, thing())) as { payload: string; mac: string };
    const raised = JSON.stringify({ ...sealed, payload: JSON.stringify({ ...thing(), n: 4 }) });
    assert.throws(() => c.open(key, raised), EntrySignatureError);
    const flipped = JSON.stringify({ ...sealed, mac: `${sealed.mac.slice(0, -2)}AA` });
    assert.throws(() => c.open(key, flipped), EntrySignatureError);
    assert.equal(c.tryOpen(key, raised), null);
    // A signature error is a cluster-secret failure like any other.
    assert.throws(() => c.open(key, raised), ClusterAuthError);
  });

  it('refuses an entry sealed with another secret, or for another purpose', () => {
    const key = keyOf(thing());
    assert.throws(() => codec().open(key, codec(OTHER).seal(key, thing())), EntrySignatureError);
    assert.throws(() => codec().open(key, codec(SECRET, 'other-kind').seal(key, thing())), EntrySignatureError);
  });

  it('refuses a genuine entry copied under another key, or filed where its value does not name', () => {
    const c = codec();
    const sealed = c.seal(keyOf(thing('a')), thing('a'));
    // The MAC covers the key: a copy elsewhere fails it.
    assert.throws(() => c.open(keyOf(thing('b')), sealed), EntrySignatureError);
    // Sealed with the secret at the wrong key (a server's bug, or a holder of the secret): misfiled.
    const misfiled = c.seal(keyOf(thing('b')), thing('a'));
    assert.throws(() => c.open(keyOf(thing('b')), misfiled), MisfiledEntryError);
    assert.equal(c.tryOpen(keyOf(thing('b')), misfiled), null);
    // Without keyOf the key is covered by the MAC but the value may name anything.
    const loose = new SignedEntry({ secret: SECRET, purpose: 'thing', schema: Thing, log });
    assert.deepEqual(loose.open('anywhere', loose.seal('anywhere', thing('a'))), thing('a'));
  });

  it('a keyOf that throws files the value nowhere', () => {
    const c = new SignedEntry({
      secret: SECRET,
      purpose: 'thing',
      schema: Thing,
      log,
      keyOf: (t) => new URL(t.id).origin,
    });
    assert.throws(() => c.open('k', c.seal('k', thing('not a url'))), MisfiledEntryError);
  });

  it('refuses malformed JSON, the wrong shape and a payload failing its schema with MalformedEntryError', () => {
    const c = codec();
    const key = keyOf(thing());
    for (const raw of ['', '{', 'null', '[]', '"x"', '{"payload":"{}"}', '{"payload":1,"mac":"x"}']) {
      assert.throws(() => c.open(key, raw), MalformedEntryError, raw);
      assert.equal(c.tryOpen(key, raw), null);
    }
    const extra = JSON.stringify({ ...(JSON.parse(c.seal(key, thing())) as object), more: 1 });
    assert.throws(() => c.open(key, extra), MalformedEntryError);
    // Genuinely sealed, but the payload is not JSON / not a Thing: malformed, not forged.
    const payload = (p: string): string => JSON.stringify({ payload: p, mac: SECRET.sign('thing', `${key}\n${p}`) });
    assert.throws(() => c.open(key, payload('{not json')), MalformedEntryError);
    assert.throws(() => c.open(key, payload(JSON.stringify({ id: 'a' }))), MalformedEntryError);
    // Sealing parses too: a value off its schema is never written.
    assert.throws(() => c.seal(key, { id: '', n: 1, term: '1' }), z.ZodError);
  });

  it('a fenced put writes the sealed value (and the ops that go with it) for its term', async () => {
    const c = codec();
    const w = new FakeWriter();
    const key = keyOf(thing());
    assert.equal(await c.fencedPut(w, key, thing(), [{ op: 'delete', key: 'ns/other' }]), '100');
    assert.equal(w.writes.length, 1);
    const [put, del] = w.writes[0]?.ops ?? [];
    assert.equal(w.writes[0]?.forTerm, '7', 'the writer checks the fence against the value term');
    assert.ok(put?.op === 'put' && put.key === key);
    assert.deepEqual(c.open(key, put.value), thing());
    assert.deepEqual(del, { op: 'delete', key: 'ns/other' });
  });

  it('a fenced put of a value from another term is refused with StaleFenceError, nothing written', async () => {
    const c = codec();
    const w = new FakeWriter();
    const stale = thing('a', '7');
    w.current = { leader: true, revision: '9', remainingMs: 1000 }; // lost the term and won it again meanwhile
    await assert.rejects(c.fencedPut(w, keyOf(stale), stale), StaleFenceError);
    // Callers that stand down on NotLeaderError stand down on this too.
    await assert.rejects(c.fencedPut(w, keyOf(stale), stale), NotLeaderError);
    assert.equal(w.writes.length, 0);
  });

  it('a fenced put off the leader is refused with NotLeaderError, nothing written', async () => {
    const c = codec();
    const w = new FakeWriter();
    w.current = { leader: false, reason: 'expired' };
    await assert.rejects(c.fencedPut(w, keyOf(thing()), thing()), (err: unknown) => {
      assert.ok(err instanceof NotLeaderError && !(err instanceof StaleFenceError));
      return true;
    });
    assert.equal(w.writes.length, 0);
  });
});
