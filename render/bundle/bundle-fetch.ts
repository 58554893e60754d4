// Fetching a published bundle from the server in chunks (`bundle.fetch` over
// the node's authenticated socket), and verifying it before anyone loads it.
// The server, or anything between, may be hostile: every chunk is parsed, the
// total is bounded, and the whole must hash to the pinned name.
import { LIMITS } from '../../protocol/limits.js';
import { BundleChunkWireSchema, type BundleChunkWire } from '../../protocol/signalling.js';
import { verifyBundle, type DecodedBundle } from './app-bundle.js';
import { BundleFormatError, BundleTooLargeError } from './errors.js';

export type FetchChunk = (hash: string, offset: number) => Promise<BundleChunkWire>;

export async function fetchBundle(
  hash: string,
  fetchChunk: FetchChunk,
): Promise<{ bytes: Buffer; bundle: DecodedBundle }> {
  const parts: Buffer[] = [];
  let got = 0;
  let size: number | null = null;
  while (size === null || got < size) {
    const parsed = BundleChunkWireSchema.safeParse(await fetchChunk(hash, got));
    if (!parsed.success) throw new BundleFormatError(`malformed bundle chunk for ${hash}`);
    const chunk = parsed.data;
    if (chunk.hash !== hash || chunk.offset !== got) {
      throw new BundleFormatError(`bundle chunk for ${chunk.hash}@${chunk.offset}, asked ${hash}@${got}`);
    }
    if (chunk.size > LIMITS.maxBundleBytes) throw new BundleTooLargeError(`bundle ${hash} claims ${chunk.size} bytes`);
    if (size !== null && chunk.size !== size) throw new BundleFormatError(`bundle ${hash} changed size while fetched`);
    size = chunk.size;
    const data = Buffer.from(chunk.data, 'base64');
    if (data.length === 0 || got + data.length > size) {
      throw new BundleFormatError(`bundle ${hash}: chunk of ${data.length} bytes at ${got} of ${size}`);
    }
    parts.push(data);
    got += data.length;
  }
  const bytes = Buffer.concat(parts);
  return { bytes, bundle: verifyBundle(bytes, hash) };
}
