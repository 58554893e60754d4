// Renderer node process entry: `tsx render/main.ts` (or `lockstep node`).
// Ctrl-C / SIGTERM leave gracefully so the server re-places our replicas.
import { getLogger } from '../protocol/logger.js';
import { loadRenderConfig } from './config.js';
import { RendererNode } from './renderer-node.js';

const log = getLogger('render-main');

export async function runNode(overrides: Parameters<typeof loadRenderConfig>[0] = {}): Promise<RendererNode> {
  const config = loadRenderConfig(overrides);
  const node = await RendererNode.create(config);
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ signal }, 'leaving');
    const hardExit = setTimeout(() => process.exit(0), 3000);
    hardExit.unref();
    void node.leave().finally(() => {
      // wrtc can crash while tearing down native threads at exit; we've closed
      // every peer connection already, so leave without running more teardown.
      setTimeout(() => process.exit(0), 100);
    });
  };
  process.once('SIGINT', () => stop('SIGINT'));
  process.once('SIGTERM', () => stop('SIGTERM'));
  return node;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  runNode()
    .then((node) => {
      // The one line scripts and tests wait for.
      process.stdout.write(`LOCKSTEP_NODE_READY nodeId=${node.config.nodeId} hostId=${node.config.hostId}\n`);
    })
    .catch((err: unknown) => {
      log.fatal({ err }, 'renderer node failed to start');
      process.exit(1);
    });
}
