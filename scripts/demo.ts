// `npm run demo`: a server and three renderer nodes (each standing for a host)
// on this machine, one writer session, and the viewer URL to open.
import { startNode, startServer, stopAll } from './lib/launcher.js';
import { ViewerClient } from './lib/viewer-client.js';

const port = Number(process.env.LOCKSTEP_PORT ?? 3000);
const nodes = Number(process.env.LOCKSTEP_DEMO_NODES ?? 3);

function say(line: string): void {
  process.stdout.write(`[demo] ${line}\n`);
}

async function main(): Promise<void> {
  say(`starting the server on port ${port}`);
  const server = await startServer({ port, dataDir: process.env.LOCKSTEP_DATA_DIR ?? 'data' });
  for (let i = 1; i <= nodes; i++) {
    say(`starting renderer node host-${i}`);
    await startNode({ url: server.url, hostId: `host-${i}` });
  }
  const viewer = await ViewerClient.connect(server.url);
  const { sessions } = await viewer.request({ type: 'sessions.list' });
  const session = sessions[0] ?? (await viewer.request({ type: 'sessions.create', app: 'writer' })).session;
  viewer.close();
  say(`session ${session.sessionId} (${session.app.name}@${session.app.hash}, ${session.replicationFactor} replicas)`);
  // The owner token is a password: it is printed here because this is a local demo.
  say(`open the viewer:  ${server.url}/?session=${session.sessionId}&token=${server.ownerToken}`);
  say(`admit another renderer host:  npx lockstep token new --host <name> --data-dir ${server.dataDir}`);
  say(`then on it:  npx lockstep node --server ${server.url} --token <the token that printed>`);
  say('Ctrl-C stops everything');
  const stop = () => {
    say('stopping');
    void stopAll().then(() => process.exit(0));
  };
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
  await server.exited;
  say('server exited');
  await stopAll();
}

main().catch(async (err: unknown) => {
  process.stderr.write(`[demo] failed: ${err instanceof Error ? err.message : String(err)}\n`);
  await stopAll();
  process.exit(1);
});
