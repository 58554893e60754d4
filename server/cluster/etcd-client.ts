// One way to open an etcd client for the cluster pieces: every unary call has a
// deadline (no quorum must fail fast, never hang), and any failure of a call
// becomes a typed DurabilityError naming the operation.
import { Etcd3, type IOptions } from 'etcd3';
import { DurabilityError, LockstepError } from '../errors.js';

export interface EtcdClientOptions {
  /** Client URLs of the etcd members (http(s)://host:2379, …). */
  hosts: string[];
  /** Deadline of each unary call in ms (default 2000). */
  callTimeoutMs?: number;
  /** TLS for the client connection (see SECURITY.md). */
  credentials?: IOptions['credentials'];
}

export function openEtcdClient(options: EtcdClientOptions): Etcd3 {
  if (options.hosts.length === 0) throw new DurabilityError('no etcd hosts given', {});
  const timeout = options.callTimeoutMs ?? 2000;
  return new Etcd3({
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
