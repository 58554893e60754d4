// The input log the configuration asks for (config.store): the one place that
// knows which InputLog classes exist.
import type { EtcdClientOptions } from '../cluster/etcd-client.js';
import type { SqliteDatabase } from '../database.js';
import type { InputLog } from '../input-log.js';
import { SqliteInputLog } from '../sqlite-input-log.js';
import { EtcdInputLog } from './etcd-input-log.js';
import type { StoreSpec } from './store-spec.js';

/** `db` is the server's own database: the default SQLite log lives in it. `credentials`: etcd client TLS. */
export async function openInputLog(
  spec: StoreSpec,
  db: SqliteDatabase,
  credentials?: EtcdClientOptions['credentials'],
): Promise<InputLog> {
  switch (spec.kind) {
    case 'sqlite':
      return spec.path === undefined ? SqliteInputLog.open(db) : SqliteInputLog.openFile(spec.path);
    case 'etcd':
      return EtcdInputLog.connect({ hosts: spec.hosts, ...(credentials ? { credentials } : {}) });
  }
}

/** For logs and /healthz: the store without credentials or paths. */
export function describeStore(spec: StoreSpec): string {
  return spec.kind === 'sqlite' ? 'sqlite' : `etcd (${spec.hosts.length} members)`;
}
