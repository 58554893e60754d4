// Which latency variants a run measures: LOCKSTEP_BENCH_LATENCY_RUNS=1280x720.warm,1920x1080.warm limits the
// latency (and tab-memory) runs to those `<size>.<mode>` labels; unset, all of them run. A limited run is a
// partial one: bench/run.ts keeps the other variants' figures from the last report (bench/lib/results-merge.ts).

/** The `<size>.<mode>` labels asked for, [] for all. */
export function latencyRunsAsked(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env.LOCKSTEP_BENCH_LATENCY_RUNS ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
}

/** Whether the variant `label` (`1920x1080.warm`) runs. */
export function latencyRunSelected(label: string, env: NodeJS.ProcessEnv = process.env): boolean {
  const asked = latencyRunsAsked(env);
  return asked.length === 0 || asked.includes(label);
}
