// A real 3-member etcd for one describe() block, and etcd clients on it that
// the suite closes: what the cluster tests share.
import assert from 'node:assert/strict';
import { after, before } from 'node:test';
import type { Etcd3 } from 'etcd3';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { EtcdCluster } from '../../server/log/etcd-cluster.js';

export interface EtcdSuite {
  cluster: () => EtcdCluster;
  /** A fresh client on every member (closed after the suite). */
  client: () => Etcd3;
}

/** Call inside describe(): starts the cluster before the suite, closes clients and cluster after it. */
export function etcdSuite(beforeClose: () => Promise<void> = () => Promise.resolve()): EtcdSuite {
  let cluster: EtcdCluster | null = null;
  const clients: Etcd3[] = [];
  before(async () => {
    cluster = await EtcdCluster.create({ members: 3 });
  });
  after(async () => {
    await beforeClose();
    for (const c of clients) c.close();
    await cluster?.close();
  });
  const get = (): EtcdCluster => {
    assert.ok(cluster, 'etcd cluster not started');
    return cluster;
  };
  return {
    cluster: get,
    client: () => {
      const c = openEtcdClient({ hosts: get().clientUrls, callTimeoutMs: 1000 });
      clients.push(c);
      return c;
    },
  };
}

/** Polls `cond` until it holds; fails the test naming `what` after `timeoutMs`. */
export async function until(cond: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
