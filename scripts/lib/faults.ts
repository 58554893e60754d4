// Faults a spare PC suffers, injectable by hand or on a schedule: crash
// (SIGKILL), hang (SIGSTOP … SIGCONT: the process lives, its TCP stays open,
// frames stop), partition (the host's link goes down … up), slow (CPU-starved
// by a cgroup quota, or by a stop/continue duty cycle where cgroups are not
// writable), and a server crash-restart (done by the caller).
import { existsSync, mkdirSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Proc } from './launcher-types.js';
import type { HostNetwork } from './host-network.js';

export const FAULT_KINDS = ['crash', 'hang', 'partition', 'slow', 'server-restart'] as const;
export type FaultKind = (typeof FAULT_KINDS)[number];

const CPU_CGROUP = '/sys/fs/cgroup/cpu';

/** An active fault: undo() ends it (resume, heal, un-throttle). */
export interface ActiveFault {
  kind: FaultKind;
  hostId: string;
  undo(): void;
}

export function hang(proc: Proc, hostId: string): ActiveFault {
  proc.child.kill('SIGSTOP');
  return { kind: 'hang', hostId, undo: () => proc.child.kill('SIGCONT') };
}

export function partition(net: HostNetwork, hostId: string): ActiveFault {
  if (!net.partition(hostId)) throw new Error(`cannot partition ${hostId}: no namespace (loopback fallback)`);
  return { kind: 'partition', hostId, undo: () => net.heal(hostId) };
}

/**
 * Starves the process to `cpuPercent` of one core: a cgroup v1 cpu quota when
 * writable, else SIGSTOP/SIGCONT in 100 ms periods.
 */
export function slow(proc: Proc, hostId: string, cpuPercent = 5): ActiveFault {
  const pid = proc.child.pid;
  if (pid === undefined) throw new Error('process has no pid');
  const group = join(CPU_CGROUP, `lockstep-slow-${process.pid}-${pid}`);
  try {
    if (!existsSync(CPU_CGROUP)) throw new Error('no cgroup v1 cpu controller');
    mkdirSync(group);
    writeFileSync(join(group, 'cpu.cfs_period_us'), '100000');
    writeFileSync(join(group, 'cpu.cfs_quota_us'), String(Math.max(1000, cpuPercent * 1000)));
    writeFileSync(join(group, 'cgroup.procs'), String(pid));
    return {
      kind: 'slow',
      hostId,
      undo: () => {
        try {
          writeFileSync(join(CPU_CGROUP, 'cgroup.procs'), String(pid));
        } catch {
          /* the process may have exited */
        }
        try {
          rmdirSync(group);
        } catch {
          /* still busy: the kernel frees it when empty */
        }
      },
    };
  } catch {
    // Each 100 ms period: run for cpuPercent ms, stopped for the rest.
    const run = Math.max(1, cpuPercent);
    const timer = setInterval(() => {
      proc.child.kill('SIGCONT');
      setTimeout(() => proc.child.kill('SIGSTOP'), run);
    }, 100);
    return {
      kind: 'slow',
      hostId,
      undo: () => {
        clearInterval(timer);
        setTimeout(() => proc.child.kill('SIGCONT'), 10);
      },
    };
  }
}
