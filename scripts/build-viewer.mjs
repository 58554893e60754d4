// Bundles the browser viewer (viewer/main.ts + mediasoup-client + socket.io-client)
// into viewer/dist with esbuild. The server serves viewer/dist and viewer/static.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
mkdirSync(join(root, 'viewer/dist'), { recursive: true });
await build({
  entryPoints: [join(root, 'viewer/main.ts')],
  bundle: true,
  format: 'esm',
  platform: 'browser',
  target: ['chrome100', 'firefox100', 'safari15'],
  outfile: join(root, 'viewer/dist/viewer.js'),
  sourcemap: true,
  minify: process.env.NODE_ENV === 'production',
  logLevel: 'warning',
  define: { 'process.env.NODE_ENV': '"production"' },
});
