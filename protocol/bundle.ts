// Published app bundles on the wire: the content hash that names one, how a
// session asks for an app (name, name@version or hash), what a node owner lets
// their PC run, and the listing REST and the CLI show.
import { z } from 'zod';
import type { AppInputs } from './app-inputs.js';
import type { ExportFormat } from './export-formats.js';
import type { ImportFormat } from './input.js';
import { LIMITS } from './limits.js';
import type { AppRef } from './session.js';

/** sha-256 of the bundle bytes, lower-case hex: the only name a node trusts. */
export const BundleHashSchema = z.string().regex(/^[0-9a-f]{64}$/, 'a sha-256 hex digest (64 characters)');

/**
 * Built-in apps are pinned by a 16-hex content hash of the node's own code,
 * published ones by the 64-hex sha-256 of their bundle: the length alone tells
 * a node whether to look in its own catalogue or fetch a bundle.
 */
export function isPublishedApp(app: AppRef): boolean {
  return BundleHashSchema.safeParse(app.hash).success;
}

const APP_NAME = '[a-z][a-z0-9-]*';
const VERSION = '\\d+\\.\\d+\\.\\d+';

/** What `sessions.create` names: a built-in or published app by name, `name@version`, or a bundle hash. */
export const AppSpecSchema = z
  .string()
  .min(1)
  .max(LIMITS.maxAppNameLength + 1 + 32)
  .regex(new RegExp(`^(${APP_NAME}(@${VERSION})?|[0-9a-f]{64})$`), 'an app name, name@version, or a bundle hash');

export type AppSpec =
  { kind: 'name'; name: string } | { kind: 'version'; name: string; version: string } | { kind: 'hash'; hash: string };

/** Splits a spec that passed AppSpecSchema. */
export function parseAppSpec(spec: string): AppSpec {
  if (BundleHashSchema.safeParse(spec).success) return { kind: 'hash', hash: spec };
  const at = spec.indexOf('@');
  return at < 0
    ? { kind: 'name', name: spec }
    : { kind: 'version', name: spec.slice(0, at), version: spec.slice(at + 1) };
}

/**
 * What a node owner lets their PC run (`lockstep node --apps`). Built-in apps
 * are the node's own code and always allowed; `published` adds every published
 * bundle (sandboxed), `hashes` only the bundles listed.
 */
export const AppPolicySchema = z.discriminatedUnion('kind', [
  z.object({ kind: z.literal('builtin') }).strict(),
  z.object({ kind: z.literal('published') }).strict(),
  z.object({ kind: z.literal('hashes'), hashes: z.array(BundleHashSchema).min(1).max(64) }).strict(),
]);
export type AppPolicy = z.infer<typeof AppPolicySchema>;

/** The safe default: a PC runs only code that came with Lockstep unless its owner opts in. */
export const DEFAULT_APP_POLICY: AppPolicy = { kind: 'builtin' };

/** `builtin`, `published`, or a comma-separated list of bundle hashes; throws with the accepted forms. */
export function parseAppPolicy(text: string): AppPolicy {
  const t = text.trim();
  if (t === 'builtin' || t === 'published') return { kind: t };
  const hashes = t
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
  const parsed = AppPolicySchema.safeParse({ kind: 'hashes', hashes });
  if (!parsed.success) {
    throw new Error(`--apps must be builtin, published, or comma-separated bundle hashes (sha-256 hex), got "${text}"`);
  }
  return parsed.data;
}

/** What a node must tell placement for the capability rule (protocol/app-capability.ts). */
export interface AppCapabilities {
  /** Built-in app versions the node carries (name + content hash). */
  apps: readonly AppRef[];
  appPolicy: AppPolicy;
  /** Bundle hashes the node has cached on disk (warm: no fetch before the first frame). */
  warmBundles: readonly string[];
  /** Bundles this node refused (could not fetch or verify): never offered again while it stays registered. */
  refusedBundles: readonly string[];
}

/** One published app, as `GET /api/apps` and `lockstep app list` show it. */
export interface PublishedAppInfo {
  name: string;
  title: string;
  version: string;
  hash: string;
  /** Bundle bytes. */
  size: number;
  /** The owner whose token published it. */
  publisher: string;
  publishedAt: number;
  /** The manifest's `exports` and `imports`: what Download, REST export and import offer for its sessions. */
  exports: ExportFormat[];
  imports: ImportFormat[];
  /** The manifest's `keyUps` and `touch`: which inputs its sessions' viewers send (protocol/app-inputs.ts). */
  inputs: AppInputs;
}

/** The HTTP header carrying the publisher's hash of the uploaded bytes (the server checks it). */
export const BUNDLE_HASH_HEADER = 'x-lockstep-bundle-sha256';

export const PublishHeadersSchema = z.object({ hash: BundleHashSchema }).strict();
