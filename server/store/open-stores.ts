// The session and token stores the configuration asks for (config.store), next
// to the input log: SQLite tables in the server's database by default, etcd
// keys under the same namespace as the log with `--store etcd:`.
import type { Etcd3 } from 'etcd3';
import { openEtcdClient, type EtcdClientOptions } from '../cluster/etcd-client.js';
import type { SqliteDatabase } from '../database.js';
import type { StoreSpec } from '../log/store-spec.js';
import type { SessionStore } from '../session-store.js';
import { SqliteSessionStore } from '../sqlite-session-store.js';
import { SqliteTokenStore } from '../sqlite-token-store.js';
import type { TokenStore } from '../token-store.js';
import { EtcdSessionStore } from './etcd-session-store.js';
import { EtcdTokenStore } from './etcd-token-store.js';

export interface RecordStores {
  sessions: SessionStore;
  tokens: TokenStore;
  /** Releases what the stores opened (the etcd client); the SQLite database stays the caller's. */
  close(): void;
}

export interface OpenStoresOptions {
  /** TLS for the etcd client connection (config.store's etcd TLS files, read). */
  credentials?: EtcdClientOptions['credentials'];
  /** etcd key prefix (default "lockstep/"). */
  namespace?: string;
}

/** `db` is the server's own database: the SQLite stores live in it (also with `--store sqlite:PATH`, the log's file). */
export function openRecordStores(
  spec: StoreSpec,
  db: SqliteDatabase | null,
  options: OpenStoresOptions = {},
): RecordStores {
  switch (spec.kind) {
    case 'sqlite': {
      if (!db) throw new Error('the SQLite stores need the server database');
      return { sessions: SqliteSessionStore.open(db), tokens: new SqliteTokenStore(db), close: () => undefined };
    }
    case 'etcd': {
      const client: Etcd3 = openEtcdClient({
        hosts: spec.hosts,
        ...(options.credentials ? { credentials: options.credentials } : {}),
      });
      const ns = { namespace: options.namespace ?? 'lockstep/' };
      return {
        sessions: new EtcdSessionStore(client, ns),
        tokens: new EtcdTokenStore(client, ns),
        close: () => client.close(),
      };
    }
  }
}
