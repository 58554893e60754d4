// Test hosts with their own network stacks: each renderer host is a Linux
// network namespace joined by a veth pair to a bridge in the root namespace,
// where the server (and Chromium) run. The harness creates and removes all of
// it itself. Without root (or without iproute2) it says so and falls back to
// processes on loopback, so callers work either way.
import { execFileSync } from 'node:child_process';

export interface TestHost {
  hostId: string;
  /** Network namespace name, or null on the loopback fallback. */
  netns: string | null;
  /** The host's own address (127.0.0.1 on the loopback fallback). */
  ip: string;
  /** The root-side veth (the host's "cable"); null on loopback. */
  link: string | null;
}

export interface HostNetworkOptions {
  /** Force the loopback fallback (for machines without namespaces). */
  loopback?: boolean;
  log?: (line: string) => void;
}

function run(cmd: string, args: string[]): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

function tryRun(cmd: string, args: string[]): boolean {
  try {
    run(cmd, args);
    return true;
  } catch {
    return false;
  }
}

export function namespacesAvailable(): { ok: boolean; why: string } {
  if (process.getuid?.() !== 0) return { ok: false, why: 'not root: network namespaces need CAP_NET_ADMIN' };
  const probe = `lsprobe${process.pid % 10000}`;
  if (!tryRun('ip', ['netns', 'add', probe]))
    return { ok: false, why: '`ip netns add` failed (iproute2 missing or no permission)' };
  tryRun('ip', ['netns', 'del', probe]);
  return { ok: true, why: 'root with iproute2' };
}

export class HostNetwork {
  readonly mode: 'netns' | 'loopback';
  /** Where the server listens and what it announces: the bridge address, or 127.0.0.1. */
  readonly serverIp: string;
  readonly hosts = new Map<string, TestHost>();
  readonly #bridge: string | null;
  readonly #subnet: string;
  readonly #tag: string;
  #closed = false;

  private constructor(mode: 'netns' | 'loopback', tag: string, subnet: string) {
    this.mode = mode;
    this.#tag = tag;
    this.#subnet = subnet;
    this.#bridge = mode === 'netns' ? `lsbr${tag}` : null;
    this.serverIp = mode === 'netns' ? `${subnet}.1` : '127.0.0.1';
  }

  /** Sets up the bridge (namespaces are added per host with addHost). */
  static create(opts: HostNetworkOptions = {}): HostNetwork {
    const say = opts.log ?? (() => undefined);
    const avail = opts.loopback ? { ok: false, why: 'loopback requested' } : namespacesAvailable();
    const tag = String(process.pid % 10000);
    // 10.231.X.0/24: our own test subnet, never routed anywhere (no default route in the namespaces).
    const subnet = `10.231.${process.pid % 250}`;
    if (!avail.ok) {
      say(`test hosts: ${avail.why}; falling back to processes on loopback (one network stack)`);
      return new HostNetwork('loopback', tag, subnet);
    }
    const net = new HostNetwork('netns', tag, subnet);
    const br = net.#bridge ?? '';
    tryRun('ip', ['link', 'del', br]);
    run('ip', ['link', 'add', br, 'type', 'bridge']);
    run('ip', ['addr', 'add', `${net.serverIp}/24`, 'dev', br]);
    run('ip', ['link', 'set', br, 'up']);
    say(`test hosts: network namespaces on bridge ${br} (${subnet}.0/24), server at ${net.serverIp}`);
    return net;
  }

  addHost(hostId: string): TestHost {
    if (this.hosts.has(hostId)) throw new Error(`host ${hostId} exists`);
    if (this.mode === 'loopback') {
      const h: TestHost = { hostId, netns: null, ip: '127.0.0.1', link: null };
      this.hosts.set(hostId, h);
      return h;
    }
    const n = this.hosts.size + 1;
    if (n > 200) throw new Error('too many test hosts');
    const ns = `ls${this.#tag}h${n}`;
    const link = `lsv${this.#tag}h${n}`;
    const ip = `${this.#subnet}.${10 + n}`;
    tryRun('ip', ['netns', 'del', ns]);
    run('ip', ['netns', 'add', ns]);
    run('ip', ['link', 'add', link, 'type', 'veth', 'peer', 'name', 'eth0', 'netns', ns]);
    run('ip', ['link', 'set', link, 'master', this.#bridge ?? '']);
    run('ip', ['link', 'set', link, 'up']);
    run('ip', ['netns', 'exec', ns, 'ip', 'addr', 'add', `${ip}/24`, 'dev', 'eth0']);
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'eth0', 'up']);
    run('ip', ['netns', 'exec', ns, 'ip', 'link', 'set', 'lo', 'up']);
    const h: TestHost = { hostId, netns: ns, ip, link };
    this.hosts.set(hostId, h);
    return h;
  }

  /** Pulls the host's cable: its processes live on, its packets go nowhere. */
  partition(hostId: string): boolean {
    const h = this.hosts.get(hostId);
    if (!h?.link) return false;
    run('ip', ['link', 'set', h.link, 'down']);
    return true;
  }

  heal(hostId: string): boolean {
    const h = this.hosts.get(hostId);
    if (!h?.link) return false;
    run('ip', ['link', 'set', h.link, 'up']);
    return true;
  }

  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const h of this.hosts.values()) {
      if (h.link) tryRun('ip', ['link', 'del', h.link]);
      if (h.netns) tryRun('ip', ['netns', 'del', h.netns]);
    }
    if (this.#bridge) tryRun('ip', ['link', 'del', this.#bridge]);
    this.hosts.clear();
  }
}
