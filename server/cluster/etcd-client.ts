// One way to open an etcd client for the cluster pieces: every unary call has a
// deadline (no quorum must fail fast, never hang), and any failure of a call
// becomes a typed DurabilityError naming the operation.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type * as Etcd3Module from 'etcd3';
import type { Etcd3, IOptions } from 'etcd3';
import type { EtcdTlsFiles } from '../config.js';
import { ConfigError, DurabilityError, LockstepError } from '../errors.js';

export interface EtcdClientOptions {
  /** Client URLs of the etcd members (http(s)://host:2379, …). */
  hosts: string[];
  /** Deadline of each unary call in ms (default 2000). */
  callTimeoutMs?: number;
  /** TLS for the client connection (see SECURITY.md). */
  credentials?: IOptions['credentials'];
}

const require = createRequire(import.meta.url);
let etcd3: typeof Etcd3Module | undefined;

/**
 * etcd3 (with grpc-js and protobufjs, a large share of the server's start) is
 * loaded when the first client is opened: the single-server default, which
 * never opens one, does not pay for it on every (re)start.
 */
function loadEtcd3(): typeof Etcd3Module {
  etcd3 ??= require('etcd3') as typeof Etcd3Module;
  return etcd3;
}

export function openEtcdClient(options: EtcdClientOptions): Etcd3 {
  if (options.hosts.length === 0) throw new DurabilityError('no etcd hosts given', {});
  const timeout = options.callTimeoutMs ?? 2000;
  return new (loadEtcd3().Etcd3)({
    hosts: options.hosts,
    dialTimeout: timeout,
    ...(options.credentials ? { credentials: options.credentials } : {}),
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
  });
}

/** Runs one etcd call; a failure of the store becomes a DurabilityError (typed errors pass through). */
export async function etcdCall<T>(op: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof LockstepError) throw err;
    throw new DurabilityError(
      `etcd ${op} failed: ${err instanceof Error ? err.message : String(err)}`,
      { op },
      { cause: err },
    );
  }
}

/** The etcd3 client's TLS options from the configured PEM files (read once, at start); undefined without any. */
export function etcdCredentials(files: EtcdTlsFiles | undefined): IOptions['credentials'] {
  if (!files) return undefined;
  const read = (what: string, path: string): Buffer => {
    try {
      return readFileSync(path);
    } catch (err) {
      throw new ConfigError(
        `cannot read the etcd ${what} ${path}: ${err instanceof Error ? err.message : String(err)}`,
      );
    }
  };
  if (files.caPath === undefined) throw new ConfigError('etcd client TLS needs the CA file (--etcd-ca)');
  return {
    rootCertificate: read('CA', files.caPath),
    ...(files.certPath === undefined ? {} : { certChain: read('client certificate', files.certPath) }),
    ...(files.keyPath === undefined ? {} : { privateKey: read('client key', files.keyPath) }),
  };
}
