// A spare PC from nothing to hosting: the time from `git clone` of this
// checkout's committed HEAD, through `npm run setup -- --node` with an empty npm
// cache (every package comes from the registry), to `lockstep node --server URL
// --token T` hosting its first replica on a running server.
// Usage: tsx bench/node-install.ts
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { removeDir, ROOT, startNodeCommand, startServer, stopAll } from '../scripts/lib/launcher.js';
import { ViewerClient } from '../scripts/lib/viewer-client.js';
import { waitFor } from '../scripts/lib/wait-for.js';
import { collector, formatResult, isMain, load1m, round, type BenchResult } from './lib/report.js';

const seconds = (t0: number): number => round((performance.now() - t0) / 1000, 1);

export async function runNodeInstall(onResult: (r: BenchResult) => void = () => undefined): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  const work = mkdtempSync(join(tmpdir(), 'lockstep-bench-node-install-'));
  const checkout = join(work, 'lockstep');
  const server = await startServer();
  try {
    const viewer = await ViewerClient.connect(server.url);
    await viewer.request({ type: 'sessions.create', app: 'writer', replicationFactor: 2, width: 640, height: 360 });
    viewer.close();

    const t0 = performance.now();
    execFileSync('git', ['clone', '--quiet', '--no-hardlinks', ROOT, checkout], { stdio: 'ignore' });
    const cloned = seconds(t0);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      // An empty npm cache: the packages come from the registry, as on a fresh machine.
      npm_config_cache: join(work, 'npm-cache'),
      LOCKSTEP_CACHE_DIR: join(work, 'cache'),
    };
    delete env.MEDIASOUP_WORKER_BIN;
    const tSetup = performance.now();
    execFileSync('npm', ['run', '--silent', 'setup', '--', '--node'], { cwd: checkout, env, stdio: 'ignore' });
    const setup = seconds(tSetup);
    const packages = readdirSync(join(checkout, 'node_modules')).length;

    const tJoin = performance.now();
    const node = await startNodeCommand({ checkout, url: server.url, hostId: 'bench-spare-pc' });
    await waitFor('first replica hosted', () => /\+ hosting replica/.test(node.output()), 60_000, 50);
    const joinS = seconds(tJoin);
    const total = seconds(t0);
    const detail = {
      cloneS: cloned,
      setupS: setup,
      joinToHostingS: joinS,
      topLevelPackages: packages,
      load1m: load1m(),
    };
    add({ name: 'node-install.clone-to-first-replica', value: total, unit: 's', detail });
    add({
      name: 'node-install.setup-node',
      value: setup,
      unit: 's',
      detail: { npmCache: 'empty (registry)', note: 'npm ci of packages/node, canvas compiled from source' },
    });
  } finally {
    await stopAll();
    removeDir(server.dataDir);
    rmSync(work, { recursive: true, force: true });
  }
  return results;
}

if (isMain(import.meta.url)) {
  runNodeInstall((r) => console.log(formatResult(r))).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
