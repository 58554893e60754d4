// The VNC peer the bench compares Lockstep with: TigerVNC's X server (Xtigervnc)
// with one xterm filling its screen, and websockify serving noVNC and bridging
// its websocket to the VNC port. All Debian packages (scripts/install-peer.sh);
// every process runs on loopback and is killed by close().
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { waitFor } from '../../scripts/lib/wait-for.js';

export const NOVNC_DIR = '/usr/share/novnc';
const BINARIES = ['/usr/bin/Xtigervnc', '/usr/bin/xterm', '/usr/bin/websockify'];

export class PeerNotInstalledError extends Error {
  constructor(missing: readonly string[]) {
    super(`VNC peer not installed (missing ${missing.join(', ')}): run scripts/install-peer.sh as root`);
    this.name = 'PeerNotInstalledError';
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(port, '127.0.0.1');
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

/** An X display number with no server on it (its socket file absent). */
function freeDisplay(): number {
  for (let d = 40 + (process.pid % 50); d < 200; d++) {
    if (!existsSync(`/tmp/.X11-unix/X${d}`) && !existsSync(`/tmp/.X${d}-lock`)) return d;
  }
  throw new Error('no free X display number');
}

export class VncPeer {
  readonly #children: ChildProcess[];
  readonly #home: string;
  /** noVNC's page, connecting on load to this peer's screen. */
  readonly url: string;

  private constructor(children: ChildProcess[], home: string, url: string) {
    this.#children = children;
    this.#home = home;
    this.url = url;
  }

  static async create(opts: { width: number; height: number }): Promise<VncPeer> {
    const missing = [...BINARIES, join(NOVNC_DIR, 'vnc.html')].filter((p) => !existsSync(p));
    if (missing.length > 0) throw new PeerNotInstalledError(missing);
    const display = freeDisplay();
    const rfbPort = await freePort();
    const webPort = await freePort();
    const home = mkdtempSync(join(tmpdir(), 'lockstep-peer-'));
    const env = { ...process.env, HOME: home, DISPLAY: `:${display}` };
    const children: ChildProcess[] = [];
    const start = (cmd: string, args: string[]) => {
      const child = spawn(cmd, args, { env, stdio: 'ignore' });
      children.push(child);
      return child;
    };
    const peer = new VncPeer(
      children,
      home,
      `http://127.0.0.1:${webPort}/vnc.html?autoconnect=true&resize=off&reconnect=false&host=127.0.0.1&port=${webPort}&path=websockify`,
    );
    try {
      start('/usr/bin/Xtigervnc', [
        `:${display}`,
        '-geometry',
        `${opts.width}x${opts.height}`,
        '-depth',
        '24',
        '-SecurityTypes',
        'None',
        '-localhost',
        '-rfbport',
        String(rfbPort),
        '-AlwaysShared',
        '-nolisten',
        'tcp',
      ]);
      await waitFor('Xtigervnc listening', () => accepts(rfbPort), 20_000, 100);
      // The default 6x13 "fixed" font: 213x55 cells fill 1280x720. No window manager: keys go to the window under the pointer.
      const cols = Math.floor(opts.width / 6);
      const rows = Math.floor(opts.height / 13);
      start('/usr/bin/xterm', ['-geometry', `${cols}x${rows}+0+0`, '-e', 'bash', '--norc', '--noprofile']);
      start('/usr/bin/websockify', ['--web', NOVNC_DIR, `127.0.0.1:${webPort}`, `127.0.0.1:${rfbPort}`]);
      await waitFor('websockify listening', () => accepts(webPort), 20_000, 100);
      for (const c of children)
        if (c.exitCode !== null || c.signalCode !== null) throw new Error(`${String(c.spawnfile)} exited at start`);
      return peer;
    } catch (err) {
      await peer.close();
      throw err;
    }
  }

  async close(): Promise<void> {
    await Promise.all(
      this.#children.map(
        (c) =>
          new Promise<void>((resolve) => {
            if (c.exitCode !== null || c.signalCode !== null) return resolve();
            // SIGTERM first: Xtigervnc then removes its lock and socket files.
            const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
            c.once('exit', () => {
              clearTimeout(timer);
              resolve();
            });
            c.kill('SIGTERM');
          }),
      ),
    );
    rmSync(this.#home, { recursive: true, force: true });
  }
}
