// Pure parsers for what the viewer-cost figures read from /proc: a process's
// proportional set size (smaps_rollup) and CPU ticks (stat), and the CPU share
// of a set of processes between two readings.

/** Pss in kB from /proc/<pid>/smaps_rollup; NaN when the field is absent. */
export function parsePssKiB(smapsRollup: string): number {
  const m = /^Pss:\s+(\d+)\s+kB/m.exec(smapsRollup);
  return m ? Number(m[1]) : Number.NaN;
}

/** utime + stime in clock ticks from /proc/<pid>/stat (the comm may hold spaces and parentheses). */
export function parseCpuTicks(stat: string): number {
  const close = stat.lastIndexOf(')');
  if (close === -1) return Number.NaN;
  // After "pid (comm) ": [0]=state … [11]=utime [12]=stime (fields 14 and 15 of stat(5)).
  const f = stat.slice(close + 2).split(' ');
  const utime = Number(f[11]);
  const stime = Number(f[12]);
  return Number.isFinite(utime) && Number.isFinite(stime) ? utime + stime : Number.NaN;
}

/**
 * Percent of one core used by the processes of `after` since `before` (pid → ticks).
 * A process absent from `before` started inside the window: all its ticks count.
 * One that exited before `after` is lost (its last ticks were unreadable).
 */
export function cpuPercent(
  before: ReadonlyMap<number, number>,
  after: ReadonlyMap<number, number>,
  seconds: number,
  ticksPerSecond: number,
): number {
  let ticks = 0;
  for (const [pid, t] of after) {
    const t0 = before.get(pid) ?? 0;
    // A reused pid (a new process with fewer ticks) counts from zero.
    ticks += t >= t0 ? t - t0 : t;
  }
  return (100 * ticks) / ticksPerSecond / seconds;
}

/** The comm of /proc/<pid>/task/<tid>/stat: the thread's name (15 characters at most), between the outer parentheses. */
export function parseComm(stat: string): string {
  const open = stat.indexOf('(');
  const close = stat.lastIndexOf(')');
  return open === -1 || close <= open ? '' : stat.slice(open + 1, close);
}

/**
 * Percent of one core per thread name between two readings of `key → {name, ticks}`
 * (the key names a thread, e.g. "renderer/1234/1240"; `group` maps a key to the
 * label it adds into, e.g. "renderer VizCompositorTh"). Largest first, omitting
 * labels under `minPercent`. A thread absent from `before` counts from zero.
 */
export function cpuByLabel(
  before: ReadonlyMap<string, number>,
  after: ReadonlyMap<string, number>,
  group: (key: string) => string,
  seconds: number,
  ticksPerSecond: number,
  minPercent = 0,
): Array<[string, number]> {
  const sums = new Map<string, number>();
  for (const [key, t] of after) {
    const t0 = before.get(key) ?? 0;
    const label = group(key);
    sums.set(label, (sums.get(label) ?? 0) + (t >= t0 ? t - t0 : t));
  }
  return [...sums]
    .map(([label, ticks]): [string, number] => [label, (100 * ticks) / ticksPerSecond / seconds])
    .filter(([, p]) => p >= minPercent)
    .sort((a, b) => b[1] - a[1]);
}

/** The threads of a renderer node process that belong to wrtc / libwebrtc (their comm names, cut to 15 characters). */
const WRTC_THREADS =
  /^(PeerConnection|TestAudioDevice|rtp_send_contro|EncoderQueue|TaskQueuePaced|rtc-low-prio|rtc_event_log|IncomingVideoSt|DecodingQueue|AudioEncoder|worker_thread|signaling_threa|network_thread)/;

/**
 * Which part of a renderer node process a thread's CPU is: the JavaScript main
 * thread (tid = pid), wrtc's native threads, or the rest (V8's platform
 * workers, libuv's pool, libvips), which are all called "node" or their library's name.
 */
export function nodeThreadGroup(pid: number, tid: number, comm: string): 'main' | 'wrtc' | 'other' {
  if (tid === pid) return 'main';
  return WRTC_THREADS.test(comm) ? 'wrtc' : 'other';
}
