// The secrets the launcher starts servers with, remembered per server URL (and
// per data directory, so a restarted server keeps them), so that callers
// authenticate by default: ViewerClient.connect(url), getSession(url, id),
// startNode({ url }) and openViewer(page, url, id) need no token argument.
import { randomBytes } from 'node:crypto';

export interface ServerSecrets {
  /** Operator owner token (admin) the server was started with (LOCKSTEP_OWNER_TOKEN). */
  ownerToken: string;
  /** Per-host join tokens issued so far (host id → secret): a node restarted on a host reuses its token. */
  hostTokens: Map<string, string>;
}

const byUrl = new Map<string, ServerSecrets>();
const byDataDir = new Map<string, ServerSecrets>();

export function newSecret(prefix: string): string {
  return `${prefix}_${randomBytes(24).toString('base64url')}`;
}

/**
 * The secrets for a data dir (or for the etcd store several servers share): the
 * same ones again when a server is restarted on it.
 */
export function secretsForDataDir(dataDir: string): ServerSecrets {
  let s = byDataDir.get(dataDir);
  if (!s) byDataDir.set(dataDir, (s = { ownerToken: newSecret('lso'), hostTokens: new Map() }));
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

/**
 * The join token for one host of the server at `url`: issued once through the
 * operator API (POST /api/hosts), then remembered, as an operator would keep it.
 */
export async function hostTokenFor(url: string, hostId: string): Promise<string> {
  const secrets = secretsFor(url);
  if (!secrets) throw new Error(`no launched server at ${url}`);
  const known = secrets.hostTokens.get(hostId);
  if (known) return known;
  const res = await fetch(`${url.replace(/\/+$/, '')}/api/hosts`, {
    method: 'POST',
    headers: { ...authHeaders(url), 'content-type': 'application/json' },
    body: JSON.stringify({ host: hostId }),
  });
  if (!res.ok) throw new Error(`admitting host ${hostId}: HTTP ${res.status} ${await res.text()}`);
  const { token } = (await res.json()) as { token: string };
  secrets.hostTokens.set(hostId, token);
  return token;
}
