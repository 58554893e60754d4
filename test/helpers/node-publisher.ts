// A stand-in server process for the node directory test: registers in the
// server registry, publishes one node under its lease, says "ready" on stdout
// and runs until killed (the test SIGKILLs it: a server dying).
import { ClusterSecret } from '../../server/cluster/cluster-secret.js';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { NodeDirectory } from '../../server/cluster/node-directory.js';
import { ServerRegistry } from '../../server/cluster/server-registry.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};

const client = openEtcdClient({ hosts: env('LOCKSTEP_ETCD_HOSTS').split(','), callTimeoutMs: 1000 });
const namespace = env('LOCKSTEP_ETCD_NAMESPACE');
const secret = ClusterSecret.fromConfig(env('LOCKSTEP_CLUSTER_SECRET'), false);
const id = env('LOCKSTEP_SERVER_ID');
const registry = await ServerRegistry.create({
  client,
  namespace,
  self: { id, url: `http://${id}.test:3000`, sfuCapacity: 8, startedAt: 1 },
  secret,
  ttlSeconds: 1,
});
const directory = await NodeDirectory.create({ client, namespace, registry, secret });
await directory.publish(JSON.parse(env('LOCKSTEP_NODE_INFO')) as Parameters<NodeDirectory['publish']>[0]);
process.stdout.write('ready\n');
setInterval(() => undefined, 60_000);
