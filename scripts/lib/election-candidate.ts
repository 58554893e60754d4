// One election candidate as its own process (a stand-in for a whole server's
// leadership part), so tests and the election bench can SIGKILL and SIGSTOP a
// leader for real. Env: LOCKSTEP_ETCD_HOSTS (comma-separated), LOCKSTEP_CANDIDATE_ID,
// LOCKSTEP_ETCD_NAMESPACE. Prints one JSON line per event on stdout; reads
// commands on stdin: "write <n>" makes a fenced write of <n> and reports it.
import { createInterface } from 'node:readline';
import { openEtcdClient } from '../../server/cluster/etcd-client.js';
import { FencedWriter } from '../../server/cluster/fenced-writer.js';
import { LeaderElection } from '../../server/cluster/leader-election.js';

const hosts = (process.env.LOCKSTEP_ETCD_HOSTS ?? '').split(',').filter(Boolean);
const serverId = process.env.LOCKSTEP_CANDIDATE_ID ?? `candidate-${process.pid}`;
const namespace = process.env.LOCKSTEP_ETCD_NAMESPACE ?? 'lockstep/';
const say = (event: Record<string, unknown>): void => {
  process.stdout.write(`${JSON.stringify({ ...event, id: serverId, at: Date.now() })}\n`);
};

const client = openEtcdClient({ hosts, callTimeoutMs: 1000 });
const election = await LeaderElection.create({ client, namespace, serverId });
const writer = new FencedWriter(client, election);
election.on('elected', ({ revision }) => say({ event: 'elected', revision }));
election.on('steppedDown', ({ reason }) => say({ event: 'stepped-down', reason }));
say({ event: 'ready' });

createInterface({ input: process.stdin }).on('line', (line) => {
  const [cmd, arg] = line.trim().split(/\s+/);
  if (cmd !== 'write' || arg === undefined) return say({ event: 'bad-command', line });
  writer.write([{ op: 'put', key: `${namespace}cluster/jobs/last`, value: `${serverId}:${arg}` }]).then(
    (revision) => say({ event: 'write', n: arg, ok: true, revision }),
    (err: unknown) =>
      say({ event: 'write', n: arg, ok: false, error: err instanceof Error ? `${err.name}: ${err.message}` : '?' }),
  );
});

process.once('SIGTERM', () => {
  void election.close().finally(() => {
    client.close();
    process.exit(0);
  });
});
