// `lockstep node` flags → the LOCKSTEP_* environment variables render/config.ts
// reads. Pure (no process.env) so the rules are unit-testable and a typo in the
// server URL fails at once instead of as an endless reconnect loop.
import { parseAppPolicy } from '../protocol/bundle.js';

/** Raw flag values as commander hands them over (strings), or numbers from code. */
export interface NodeCliOptions {
  server?: string;
  token?: string;
  hostId?: string;
  nodeId?: string;
  maxReplicas?: string | number;
  maxFps?: string | number;
  /** `builtin`, `published`, or comma-separated bundle hashes. */
  apps?: string;
}

// Duplicated from server/cli-options.ts on purpose: render/ does not import server/.
function parseIntFlag(flag: string, value: string | number, min: number, max: number): number {
  const text = String(value).trim();
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${String(value)}"`);
  }
  return n;
}

/**
 * Validates the server URL and reduces it to its origin: the node connects to
 * `<origin>/node`, so a pasted viewer link (`http://h:3000/?session=…`) still works.
 */
export function normalizeServerUrl(raw: string): string {
  let url: URL;
  try {
    url = new URL(raw.trim());
  } catch {
    throw new Error(`--server must be an http:// or https:// URL such as http://192.168.1.10:3000, got "${raw}"`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new Error(`--server must be an http:// or https:// URL, got "${raw}" (${url.protocol.replace(/:$/, '')})`);
  }
  if (url.hostname === '') throw new Error(`--server has no host: "${raw}"`);
  return url.origin;
}

// Ids travel in logs and placement decisions; whitespace would only cause confusion.
function idFlag(flag: string, value: string): string {
  const id = value.trim();
  if (!/^[\w.:@-]{1,128}$/.test(id)) {
    throw new Error(`${flag} must be 1-128 characters of letters, digits, "._:@-", got "${value}"`);
  }
  return id;
}

/**
 * `--server A[,B…]`: the servers a node may home on, tried in turn when one
 * dies (it also learns the cluster's list from them). Each reduced to its
 * origin, duplicates dropped, at most 32.
 */
export function normalizeServerUrls(raw: string): string[] {
  const parts = raw
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '');
  if (parts.length === 0) throw new Error('--server needs at least one URL');
  if (parts.length > 32) throw new Error(`--server takes at most 32 URLs, got ${parts.length}`);
  return [...new Set(parts.map(normalizeServerUrl))];
}

/** Maps validated flags to env variables; --server is required, the rest optional. */
export function nodeEnvFromOptions(opts: NodeCliOptions): Record<string, string> {
  if (opts.server === undefined || opts.server.trim() === '') {
    throw new Error('--server <url> is required (the Lockstep server, e.g. http://192.168.1.10:3000)');
  }
  const env: Record<string, string> = { LOCKSTEP_SERVER_URL: normalizeServerUrls(opts.server).join(',') };
  if (opts.token !== undefined) {
    if (opts.token === '') throw new Error('--token must not be empty');
    env.LOCKSTEP_JOIN_TOKEN = opts.token;
  }
  if (opts.hostId !== undefined) env.LOCKSTEP_HOST_ID = idFlag('--host-id', opts.hostId);
  if (opts.nodeId !== undefined) env.LOCKSTEP_NODE_ID = idFlag('--node-id', opts.nodeId);
  if (opts.maxReplicas !== undefined)
    env.LOCKSTEP_MAX_REPLICAS = String(parseIntFlag('--max-replicas', opts.maxReplicas, 1, 1024));
  // config.ts clamps to 1..60 silently; reject instead so the user sees their value was not used.
  if (opts.maxFps !== undefined) env.LOCKSTEP_MAX_FPS = String(parseIntFlag('--max-fps', opts.maxFps, 1, 60));
  if (opts.apps !== undefined) {
    const policy = parseAppPolicy(opts.apps);
    env.LOCKSTEP_APPS = policy.kind === 'hashes' ? policy.hashes.join(',') : policy.kind;
  }
  return env;
}
