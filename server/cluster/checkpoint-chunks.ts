// The bytes of a relayed checkpoint answer, as stored in etcd: each chunk is
// sealed with an HMAC under the cluster secret over where it belongs (session,
// seq, chunk index and count, state hash, the whole answer's byte length) and
// its bytes, so a party with etcd write access but not the secret, or a chunk
// copied from another answer or position, cannot plant bytes. The leader
// still re-hashes the joined bytes against the quorum's hash: the seal says a
// server wrote them, the hash that they are the state the hosts agreed on.
// Followers adopt a confirmed snapshot only once the log's stored bytes at the
// sealed record's seq re-hash to the record's hash (the log store is unsealed).
import { CheckpointChunkSchema, type ConfirmedSnapshot } from '../../protocol/cluster-state.js';
import { stateHashOf } from '../../render/app-hash.js';
import type { StoredSnapshot } from '../input-log.js';
import { PURPOSE } from './checkpoint-keys.js';
import { CheckpointIntegrityError } from './cluster-errors.js';
import type { ClusterSecret } from './cluster-secret.js';

/** Where a chunk belongs: every field is covered by its MAC. */
export interface ChunkPlace {
  sessionId: string;
  seq: number;
  stateHash: string;
  /** This chunk's index, 0-based, and how many the answer has. */
  index: number;
  total: number;
  /** The whole answer's byte length. */
  bytes: number;
}

function macPayload(p: ChunkPlace, data: string): string {
  return [p.sessionId, p.seq, p.index, p.total, p.stateHash, p.bytes, data].join('\n');
}

/** The stored value of one chunk. */
export function sealChunk(secret: ClusterSecret, place: ChunkPlace, part: Buffer): string {
  const data = part.toString('base64');
  return JSON.stringify(
    CheckpointChunkSchema.parse({ data, mac: secret.sign(PURPOSE.chunk, macPayload(place, data)) }),
  );
}

/** The chunk's bytes; CheckpointIntegrityError when it is malformed, unsigned or sealed for anything else. */
export function openChunk(secret: ClusterSecret, place: ChunkPlace, raw: string): Buffer {
  let chunk;
  try {
    chunk = CheckpointChunkSchema.parse(JSON.parse(raw));
  } catch (err) {
    throw new CheckpointIntegrityError('checkpoint chunk is malformed or unsigned', {
      ...place,
      err: err instanceof Error ? err.message.slice(0, 200) : String(err),
    });
  }
  if (!secret.verify(PURPOSE.chunk, macPayload(place, chunk.data), chunk.mac)) {
    throw new CheckpointIntegrityError('checkpoint chunk failed its cluster-secret check', { ...place });
  }
  return Buffer.from(chunk.data, 'base64');
}

/**
 * Throws CheckpointIntegrityError when the log stores a snapshot at the
 * confirmed record's seq that is not the one the record names (another hash,
 * or bytes that do not re-hash to it). Nothing stored there yet passes: the
 * caller finds the log behind and tries again.
 */
export function verifyStoredSnapshot(stored: StoredSnapshot | null, record: ConfirmedSnapshot): void {
  if (!stored || stored.seq !== record.seq) return;
  if (stored.stateHash !== record.stateHash || stateHashOf(stored.data) !== record.stateHash) {
    throw new CheckpointIntegrityError('the stored snapshot does not hash to the confirmed record', {
      sessionId: record.sessionId,
      seq: record.seq,
      stateHash: record.stateHash,
    });
  }
}
