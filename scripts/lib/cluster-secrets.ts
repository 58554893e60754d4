// The secrets the launcher starts servers with, remembered per server URL (and
// per data directory, so a restarted server keeps them), so that callers
// authenticate by default: ViewerClient.connect(url), getSession(url, id),
// startNode({ url }) and openViewer(page, url, id) need no token argument.
import { randomBytes } from 'node:crypto';

export interface ServerSecrets {
  /** Operator owner token (admin) the server was started with (LOCKSTEP_OWNER_TOKEN). */
  ownerToken: string;
  /** Cluster join token (LOCKSTEP_JOIN_TOKEN). */
  joinToken: string;
}

const byUrl = new Map<string, ServerSecrets>();
const byDataDir = new Map<string, ServerSecrets>();

export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/** The secrets for a data dir: the same ones again when a server is restarted on it. */
export function secretsForDataDir(dataDir: string): ServerSecrets {
  let s = byDataDir.get(dataDir);
  if (!s) byDataDir.set(dataDir, (s = { ownerToken: newSecret('lso'), joinToken: newSecret('join') }));
  return s;
}

export function rememberServer(url: string, secrets: ServerSecrets): void {
  byUrl.set(url.replace(/\/+$/, ''), secrets);
}

export function secretsFor(url: string): ServerSecrets | undefined {
  return byUrl.get(url.replace(/\/+$/, ''));
}

export function ownerTokenFor(url: string): string {
  return secretsFor(url)?.ownerToken ?? '';
}

/** Headers for fetch() against a launched server's REST API. */
export function authHeaders(url: string, token = ownerTokenFor(url)): Record<string, string> {
  return token ? { authorization: `Bearer ${token}` } : {};
}
