// The two ways the store contract suites make a store refuse writes: another
// SQLite connection holding the write lock, or an etcd cluster without quorum.
import type { TestContext } from 'node:test';
import { openDatabase } from '../../server/database.js';
import type { EtcdCluster } from '../../server/log/etcd-cluster.js';

/** Every write to `file` fails with SQLITE_BUSY until the returned restore() (also run when the test ends). */
export function holdSqliteWriteLock(t: TestContext, file: string): () => Promise<void> {
  const blocker = openDatabase(file);
  blocker.exec('BEGIN IMMEDIATE');
  const restore = (): Promise<void> => {
    if (blocker.open) {
      blocker.exec('ROLLBACK');
      blocker.close();
    }
    return Promise.resolve();
  };
  t.after(restore);
  return restore;
}

/** Stops two of three members: no quorum, no write commits, until the returned restore() (also run when the test ends). */
export async function loseEtcdQuorum(t: TestContext, cluster: EtcdCluster): Promise<() => Promise<void>> {
  await Promise.all([cluster.stop(0), cluster.stop(1)]);
  // Together: the two restarted members make a quorum even if member 2 went meanwhile.
  const restore = async (): Promise<void> => {
    await cluster.restart(...cluster.stopped());
    await cluster.waitHealthy();
  };
  t.after(restore);
  return restore;
}
