// Sealed checkpoint chunks and the follower's check of a confirmed snapshot's
// stored bytes (server/cluster/checkpoint-chunks.ts): pure, no etcd.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { ConfirmedSnapshot } from '../../protocol/cluster-state.js';
import { stateHashOf } from '../../render/app-hash.js';
import { openChunk, sealChunk, verifyStoredSnapshot, type ChunkPlace } from '../../server/cluster/checkpoint-chunks.js';
import { CheckpointIntegrityError } from '../../server/cluster/cluster-errors.js';
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';

const SECRET = ClusterSecret.fromConfig('checkpoint-chunks-unit-secret-0123456789', false);
const OTHER = ClusterSecret.fromConfig('another-cluster-secret-entirely-0123456789', false);
const DATA = Buffer.from('state bytes of the session at seq 12');
const PLACE: ChunkPlace = { sessionId: 's1', seq: 12, stateHash: stateHashOf(DATA), index: 0, total: 1, bytes: 36 };

const refused = (fn: () => unknown): void => assert.throws(fn, CheckpointIntegrityError);

describe('sealed checkpoint chunks', () => {
  it('a chunk opens at the place it was sealed for, with its bytes', () => {
    assert.ok(openChunk(SECRET, PLACE, sealChunk(SECRET, PLACE, DATA)).equals(DATA));
  });

  it('every field of the place is covered: a chunk moved anywhere else is refused', () => {
    const sealed = sealChunk(SECRET, PLACE, DATA);
    const moves: Array<Partial<ChunkPlace>> = [
      { sessionId: 's2' },
      { seq: 13 },
      { stateHash: stateHashOf(Buffer.from('x')) },
      { index: 1 },
      { total: 2 },
      { bytes: 37 },
    ];
    for (const move of moves) refused(() => openChunk(SECRET, { ...PLACE, ...move }, sealed));
  });

  it('altered bytes, another secret, no seal or garbage are refused', () => {
    const sealed = JSON.parse(sealChunk(SECRET, PLACE, DATA)) as { data: string; mac: string };
    const altered = Buffer.from(DATA);
    altered[3] = (altered[3] ?? 0) ^ 0x20;
    refused(() => openChunk(SECRET, PLACE, JSON.stringify({ ...sealed, data: altered.toString('base64') })));
    refused(() => openChunk(SECRET, PLACE, sealChunk(OTHER, PLACE, DATA)));
    refused(() => openChunk(SECRET, PLACE, DATA.toString('base64')));
    refused(() => openChunk(SECRET, PLACE, JSON.stringify({ data: DATA.toString('base64') })));
    refused(() => openChunk(SECRET, PLACE, '{"data":"AA==","mac":"x","extra":1}'));
  });
});

describe("a follower's check of a confirmed snapshot's stored bytes", () => {
  const record: ConfirmedSnapshot = {
    sessionId: 's1',
    seq: 12,
    stateHash: stateHashOf(DATA),
    hosts: ['ha', 'hb'],
    previousSeq: null,
    term: '7',
    confirmedAt: 0,
  };
  const stored = { sessionId: 's1', seq: 12, stateHash: record.stateHash, data: DATA, createdAt: 0 };

  it('passes the bytes the record names, and a log not there yet', () => {
    verifyStoredSnapshot(stored, record);
    verifyStoredSnapshot(null, record);
    verifyStoredSnapshot({ ...stored, seq: 11 }, record);
  });

  it('refuses bytes at its seq that carry another hash or do not re-hash to it', () => {
    const planted = Buffer.from('planted state');
    refused(() => verifyStoredSnapshot({ ...stored, data: planted }, record));
    refused(() => verifyStoredSnapshot({ ...stored, data: planted, stateHash: stateHashOf(planted) }, record));
  });
});
