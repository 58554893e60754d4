// Server process entry: `tsx server/main.ts` (or `lockstep server`).
import { getLogger } from '../protocol/logger.js';
import { LockstepServer } from './lockstep-server.js';

const log = getLogger('server-main');

export async function runServer(): Promise<LockstepServer> {
  const server = await LockstepServer.create();
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'shutting down');
    setTimeout(() => process.exit(0), 3000).unref();
    void server.close().finally(() => process.exit(0));
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return server;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runServer()
    .then((server) => {
      // Generated on first start only: the one time the secret is shown (only its hash is stored).
      if (server.newOwnerToken) process.stdout.write(`LOCKSTEP_OWNER_TOKEN=${server.newOwnerToken}\n`);
      // The one line scripts and tests wait for: where to connect.
      process.stdout.write(`LOCKSTEP_SERVER_URL=${server.url}\n`);
    })
    .catch((err: unknown) => {
      log.fatal({ err }, 'server failed to start');
      process.exit(1);
    });
}
