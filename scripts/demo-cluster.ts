// `npm run demo:cluster`: 3 etcd members, 3 Lockstep servers over them and 3
// renderer nodes on this machine (each server and node in its own network
// namespace when run as root), one writer session; prints the viewer URLs and
// how to kill each part by hand. Ctrl-C stops everything.
import { LocalCluster } from './lib/local-cluster.js';
import { stopAll } from './lib/launcher.js';
import { ViewerClient } from './lib/viewer-client.js';
import { waitFor } from './lib/wait-for.js';
import { getSession } from './lib/session-rest.js';

const env = (name: string, fallback: number) => Number(process.env[name] ?? fallback);

function say(line: string): void {
  process.stdout.write(`[demo:cluster] ${line}\n`);
}

async function main(): Promise<void> {
  const cluster = await LocalCluster.create({
    servers: env('LOCKSTEP_DEMO_SERVERS', 3),
    nodes: env('LOCKSTEP_DEMO_NODES', 3),
    ...(process.env.LOCKSTEP_PORT ? { basePort: Number(process.env.LOCKSTEP_PORT) } : {}),
    loopback: process.env.LOCKSTEP_DEMO_LOOPBACK === '1',
    log: say,
  });
  const stop = () => {
    say('stopping');
    void cluster
      .close()
      .then(stopAll)
      .then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);

  const first = cluster.server(0);
  const viewer = await ViewerClient.connect(first.url);
  const { sessions } = await viewer.request({ type: 'sessions.list' });
  const session = sessions[0] ?? (await viewer.request({ type: 'sessions.create', app: 'writer' })).session;
  viewer.close();
  await waitFor(
    'a live replica',
    async () => (await getSession(first.url, session.sessionId)).replicas.some((r) => r.state === 'live'),
    60_000,
  );
  const token = first.proc?.ownerToken ?? '';
  say(`session ${session.sessionId} (${session.app.name}@${session.app.hash}, ${session.replicationFactor} replicas)`);
  // The owner token is a password: it is printed here because this is a local demo.
  say('open the viewer on any server (every one serves the session):');
  for (const s of cluster.servers) say(`  ${s.id}:  ${s.url}/?session=${session.sessionId}&token=${token}`);
  say('kill a part by hand:');
  for (const s of cluster.servers) {
    const pid = s.proc?.child.pid ?? '?';
    const where = s.host.netns ? `, namespace ${s.host.netns}` : '';
    say(`  ${s.id}: kill -9 ${pid}  (hang: kill -STOP ${pid} … kill -CONT ${pid}${where})`);
    if (s.host.link) say(`  ${s.id} partition: ip link set ${s.host.link} down … ip link set ${s.host.link} up`);
  }
  for (const [i, m] of cluster.etcd.members().entries()) {
    say(`  etcd member ${m.name} (machine of server-${i + 1}): kill -9 ${m.pid ?? '?'}  (${m.clientUrl})`);
  }
  for (const n of cluster.nodes) say(`  ${n.hostId}: kill -9 ${n.proc?.child.pid ?? '?'}`);
  say(`who leads: etcdctl --endpoints=${cluster.etcd.clientUrls.join(',')} get lockstep/cluster/leader`);
  say('a killed part is not restarted by the demo; Ctrl-C stops everything');
  // Runs until Ctrl-C; say so when every server is gone.
  for (;;) {
    await new Promise((r) => setTimeout(r, 1000));
    if (cluster.liveServers().length === 0) {
      say('every server exited');
      await cluster.close();
      process.exit(1);
    }
  }
}

main().catch(async (err: unknown) => {
  process.stderr.write(`[demo:cluster] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
