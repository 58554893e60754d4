// `lockstep server` flags → the LOCKSTEP_* environment variables server/config.ts
// reads. Kept pure (no process.env, no fs) so every rule is unit-testable and the
// CLI fails with one clear message before anything starts listening.
import { isIP } from 'node:net';
import { parseStoreSpec } from './log/store-spec.js';

/** Raw flag values as commander hands them over (strings), or numbers from code. */
export interface ServerCliOptions {
  port?: string | number;
  host?: string;
  dataDir?: string;
  announcedIp?: string;
  listenIp?: string;
  rtcMinPort?: string | number;
  rtcMaxPort?: string | number;
  workers?: string | number;
  tlsCert?: string;
  tlsKey?: string;
  joinToken?: string;
  ownerToken?: string;
  store?: string;
  advertise?: string;
  etcdCa?: string;
  etcdCert?: string;
  etcdKey?: string;
}

/** Parses an integer flag strictly: "12abc", "1.5" and "" are errors, not 12 / 1 / 0. */
export function parseIntFlag(flag: string, value: string | number, min: number, max: number): number {
  const text = String(value).trim();
  const n = /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max) {
    throw new Error(`${flag} must be an integer from ${min} to ${max}, got "${String(value)}"`);
  }
  return n;
}

function ipFlag(flag: string, value: string): string {
  // mediasoup 3.8 wants literal addresses here; a hostname fails deep inside a worker.
  const ip = value.trim();
  if (isIP(ip) === 0) throw new Error(`${flag} must be an IPv4 or IPv6 address, got "${value}"`);
  return ip;
}

// A bind address: an IP literal or a hostname such as "localhost" (brackets allowed for IPv6).
const HOSTNAME = /^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$/i;

function hostFlag(value: string): string {
  const host = value.trim().replace(/^\[(.*)\]$/, '$1');
  if (isIP(host) === 0 && !HOSTNAME.test(host)) {
    throw new Error(`--host must be an IP address or hostname to listen on, got "${value}"`);
  }
  return host;
}

/** --advertise: an http(s) origin (no path) that nodes, viewers and other servers can reach. */
export function advertiseFlag(value: string): string {
  const text = value.trim();
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new Error(`--advertise must be a URL such as http://this-host:3000, got "${value}"`);
  }
  if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search || url.hash) {
    throw new Error(`--advertise must be http(s)://host[:port] without a path, got "${value}"`);
  }
  return url.origin;
}

function nonEmpty(flag: string, value: string): string {
  if (value.trim() === '') throw new Error(`${flag} must not be empty`);
  return value;
}

/** Maps validated flags to env variables; flags left out are left out (config defaults apply). */
export function serverEnvFromOptions(opts: ServerCliOptions): Record<string, string> {
  const env: Record<string, string> = {};
  if (opts.port !== undefined) env.LOCKSTEP_PORT = String(parseIntFlag('--port', opts.port, 0, 65535));
  if (opts.host !== undefined) env.LOCKSTEP_HOST = hostFlag(opts.host);
  if (opts.dataDir !== undefined) env.LOCKSTEP_DATA_DIR = nonEmpty('--data-dir', opts.dataDir);
  if (opts.store !== undefined) {
    parseStoreSpec(opts.store);
    env.LOCKSTEP_STORE = opts.store.trim();
  }
  if (opts.advertise !== undefined) env.LOCKSTEP_ADVERTISE = advertiseFlag(opts.advertise);
  if (opts.etcdCa !== undefined) env.LOCKSTEP_ETCD_CA = nonEmpty('--etcd-ca', opts.etcdCa);
  if (opts.etcdCert !== undefined) env.LOCKSTEP_ETCD_CERT = nonEmpty('--etcd-cert', opts.etcdCert);
  if (opts.etcdKey !== undefined) env.LOCKSTEP_ETCD_KEY = nonEmpty('--etcd-key', opts.etcdKey);
  if ((opts.etcdCert === undefined) !== (opts.etcdKey === undefined)) {
    throw new Error('--etcd-cert and --etcd-key go together (the client certificate and its key)');
  }
  if (opts.announcedIp !== undefined) env.LOCKSTEP_ANNOUNCED_IP = ipFlag('--announced-ip', opts.announcedIp);
  if (opts.listenIp !== undefined) env.LOCKSTEP_LISTEN_IP = ipFlag('--listen-ip', opts.listenIp);

  const min = opts.rtcMinPort === undefined ? undefined : parseIntFlag('--rtc-min-port', opts.rtcMinPort, 0, 65535);
  const max = opts.rtcMaxPort === undefined ? undefined : parseIntFlag('--rtc-max-port', opts.rtcMaxPort, 0, 65535);
  // Only one given: compare against the config default for the other, so the
  // range error shows up here rather than as a mediasoup worker failure.
  const effMin = min ?? 40000;
  const effMax = max ?? 49999;
  if ((min !== undefined || max !== undefined) && effMin > effMax) {
    throw new Error(`--rtc-min-port (${effMin}) must not be greater than --rtc-max-port (${effMax})`);
  }
  if (min !== undefined) env.LOCKSTEP_RTC_MIN_PORT = String(min);
  if (max !== undefined) env.LOCKSTEP_RTC_MAX_PORT = String(max);

  if (opts.workers !== undefined)
    env.LOCKSTEP_MEDIASOUP_WORKERS = String(parseIntFlag('--workers', opts.workers, 1, 1024));

  // config.ts silently serves plain HTTP when only one of the pair is set; refuse instead.
  if ((opts.tlsCert === undefined) !== (opts.tlsKey === undefined)) {
    throw new Error('--tls-cert and --tls-key must be given together');
  }
  if (opts.tlsCert !== undefined && opts.tlsKey !== undefined) {
    env.LOCKSTEP_TLS_CERT = nonEmpty('--tls-cert', opts.tlsCert);
    env.LOCKSTEP_TLS_KEY = nonEmpty('--tls-key', opts.tlsKey);
  }
  // Secrets: the same rules the server enforces at start (server/access.ts), checked before it starts.
  if (opts.joinToken !== undefined) env.LOCKSTEP_JOIN_TOKEN = secretFlag('--join-token', opts.joinToken);
  if (opts.ownerToken !== undefined) {
    const t = secretFlag('--owner-token', opts.ownerToken);
    if (!/^[A-Za-z0-9_-]+$/.test(t)) throw new Error('--owner-token must be characters of [A-Za-z0-9_-]');
    env.LOCKSTEP_OWNER_TOKEN = t;
  }
  return env;
}

/** Operator-chosen secrets must be long enough to be unguessable (~128 bits of base64). */
export const MIN_SECRET_CHARS = 22;

function secretFlag(flag: string, value: string): string {
  const t = value.trim();
  if (t.length < MIN_SECRET_CHARS || t.length > 256) {
    throw new Error(`${flag} must be ${MIN_SECRET_CHARS}-256 characters (generate one with \`lockstep token new\`)`);
  }
  return t;
}
