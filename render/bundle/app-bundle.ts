// The bundle format: one byte string holding a published app, named by its
// sha-256. Canonical by construction (entries sorted by path, no duplicates,
// nothing but the manifest, the compiled code and the manifest's font files),
// so the same app always gives the same bytes and so the same hash, and a
// decoder refuses any other arrangement of the same files.
//
//   "LSBUNDLE" 0x01 | entries: u32 path length, path (UTF-8), u32 data length, data
import { createHash } from 'node:crypto';
import { LIMITS } from '../../protocol/limits.js';
import { ManifestError, parseManifest, type AppManifest } from '../sdk/manifest.js';
import { BundleFormatError, BundleHashError, BundleTooLargeError } from './errors.js';

const MAGIC = Buffer.from('LSBUNDLE\x01', 'latin1');
export const MANIFEST_PATH = 'app.json';
/** The app's entry module compiled with what it imports (render/sandbox/bundle-app.ts). */
export const CODE_PATH = 'code.js';
const MAX_PATH_BYTES = 200;

export interface DecodedBundle {
  manifest: AppManifest;
  /** The sandbox bundle's JavaScript. */
  code: string;
  /** Font file path (as the manifest names it) → bytes. */
  fontFiles: ReadonlyMap<string, Buffer>;
}

export function bundleHashOf(bytes: Uint8Array): string {
  return createHash('sha256').update(bytes).digest('hex');
}

const byPath = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Files the manifest requires in the bundle, besides app.json and code.js. */
function fontPathsOf(manifest: AppManifest): string[] {
  return manifest.fonts.flatMap((f) => ('file' in f ? [f.file] : []));
}

/** Packs already-read parts; deterministic: equal inputs give equal bytes. */
export function encodeBundle(manifestText: string, code: string, fontFiles: ReadonlyMap<string, Buffer>): Buffer {
  const entries = new Map<string, Buffer>([
    [MANIFEST_PATH, Buffer.from(manifestText, 'utf8')],
    [CODE_PATH, Buffer.from(code, 'utf8')],
  ]);
  for (const [path, bytes] of fontFiles) entries.set(path, bytes);
  const parts: Buffer[] = [MAGIC];
  for (const path of [...entries.keys()].sort(byPath)) {
    const name = Buffer.from(path, 'utf8');
    const data = entries.get(path) ?? Buffer.alloc(0);
    const head = Buffer.alloc(4);
    head.writeUInt32BE(name.length);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    parts.push(head, name, len, data);
  }
  const out = Buffer.concat(parts);
  if (out.length > LIMITS.maxBundleBytes) {
    throw new BundleTooLargeError(`bundle is ${out.length} bytes, more than the ${LIMITS.maxBundleBytes} allowed`, {
      size: out.length,
    });
  }
  return out;
}

function readEntries(bytes: Buffer): Map<string, Buffer> {
  if (bytes.length < MAGIC.length || !bytes.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new BundleFormatError('not a Lockstep app bundle (bad magic)');
  }
  const entries = new Map<string, Buffer>();
  let at = MAGIC.length;
  let previous: string | null = null;
  const u32 = (what: string): number => {
    if (at + 4 > bytes.length) throw new BundleFormatError(`bundle truncated in ${what}`);
    const v = bytes.readUInt32BE(at);
    at += 4;
    return v;
  };
  while (at < bytes.length) {
    const nameLen = u32('a path length');
    if (nameLen === 0 || nameLen > MAX_PATH_BYTES || at + nameLen > bytes.length) {
      throw new BundleFormatError('bundle entry has a bad path length');
    }
    const path = bytes.subarray(at, at + nameLen).toString('utf8');
    at += nameLen;
    const dataLen = u32(`the length of ${path}`);
    if (at + dataLen > bytes.length) throw new BundleFormatError(`bundle truncated in ${path}`);
    if (previous !== null && byPath(previous, path) >= 0) {
      throw new BundleFormatError(`bundle entries out of order or repeated at ${path}`);
    }
    previous = path;
    entries.set(path, bytes.subarray(at, at + dataLen));
    at += dataLen;
  }
  return entries;
}

/** Decodes and checks a bundle's structure and manifest; every problem is a typed error. */
export function decodeBundle(bytes: Buffer): DecodedBundle {
  if (bytes.length > LIMITS.maxBundleBytes) {
    throw new BundleTooLargeError(`bundle is ${bytes.length} bytes, more than the ${LIMITS.maxBundleBytes} allowed`, {
      size: bytes.length,
    });
  }
  const entries = readEntries(bytes);
  const manifestBytes = entries.get(MANIFEST_PATH);
  if (!manifestBytes) throw new BundleFormatError(`bundle has no ${MANIFEST_PATH}`);
  let manifest: AppManifest;
  try {
    manifest = parseManifest(manifestBytes.toString('utf8'));
  } catch (err) {
    if (err instanceof ManifestError) throw new BundleFormatError(`bundle ${err.message}`);
    throw err;
  }
  const code = entries.get(CODE_PATH);
  if (!code || code.length === 0) throw new BundleFormatError(`bundle has no entry code (${CODE_PATH})`);
  const fontFiles = new Map<string, Buffer>();
  for (const path of fontPathsOf(manifest)) {
    const font = entries.get(path);
    if (!font) throw new BundleFormatError(`bundle lacks the font file ${path} its manifest names`);
    fontFiles.set(path, font);
  }
  const expected = new Set([MANIFEST_PATH, CODE_PATH, ...fontFiles.keys()]);
  const extra = [...entries.keys()].find((p) => !expected.has(p));
  if (extra !== undefined) throw new BundleFormatError(`bundle holds ${extra}, which its manifest does not name`);
  return { manifest, code: code.toString('utf8'), fontFiles };
}

/** Hash first (the name is what was pinned), then structure: the one check at upload and at every node. */
export function verifyBundle(bytes: Buffer, expectedHash: string): DecodedBundle {
  const actual = bundleHashOf(bytes);
  if (actual !== expectedHash) {
    throw new BundleHashError(`bundle bytes hash to ${actual}, not ${expectedHash}`, {
      expected: expectedHash,
      actual,
    });
  }
  return decodeBundle(bytes);
}
