// A V8 CPU profile (CDP Profiler.stop's `profile`) summed up: the main thread's
// time per function, self and inclusive (a function counted once per sample
// however deep its recursion), in ms per second of the profile. Pure: the
// bench's opt-in main-thread profile (LOCKSTEP_BENCH_PROFILE, bench/peer.ts).

export interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}

export interface CpuProfile {
  nodes: ProfileNode[];
  startTime: number;
  endTime: number;
  samples?: number[];
  timeDeltas?: number[];
}

export interface ProfileRow {
  /** "function file:line" (the file's last path segment; "(idle)", "(program)", "(garbage collector)" as V8 names them). */
  fn: string;
  selfMsPerS: number;
  totalMsPerS: number;
}

function label(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const name = functionName || '(anonymous)';
  if (!url) return name;
  const file = url.slice(url.lastIndexOf('/') + 1);
  return `${name} ${file}:${lineNumber + 1}`;
}

/** Time per function, ms per second of the profile, the `limit` largest by inclusive time (then self). */
export function summarizeProfile(profile: CpuProfile, limit = 40): ProfileRow[] {
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const parent = new Map<number, number>();
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
  const samples = profile.samples ?? [];
  const deltas = profile.timeDeltas ?? [];
  const self = new Map<string, number>();
  const total = new Map<string, number>();
  // Each sample's time is the gap to the next one (V8 records the delta before a sample).
  for (let i = 0; i < samples.length; i++) {
    const us = deltas[i + 1] ?? 0;
    if (us <= 0) continue;
    const leaf = byId.get(samples[i] ?? -1);
    if (!leaf) continue;
    const leafLabel = label(leaf);
    self.set(leafLabel, (self.get(leafLabel) ?? 0) + us);
    const seen = new Set<string>();
    for (let id: number | undefined = leaf.id; id !== undefined; id = parent.get(id)) {
      const node = byId.get(id);
      if (!node) break;
      const l = label(node);
      if (l === '(root)' || seen.has(l)) continue;
      seen.add(l);
      total.set(l, (total.get(l) ?? 0) + us);
    }
  }
  const seconds = Math.max(1e-9, (profile.endTime - profile.startTime) / 1e6);
  const perS = (us: number) => Math.round((us / 1000 / seconds) * 100) / 100;
  return [...total.keys()]
    .map((fn) => ({ fn, selfMsPerS: perS(self.get(fn) ?? 0), totalMsPerS: perS(total.get(fn) ?? 0) }))
    .sort((a, b) => b.totalMsPerS - a.totalMsPerS || b.selfMsPerS - a.selfMsPerS)
    .slice(0, limit);
}
