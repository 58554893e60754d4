// The order a session's inputs go out to its replicas' nodes: the replicas a
// viewer is watching first (their frame is the one someone waits for), then
// the standbys, each group in its own order. On a shared box the node written
// to first is woken first.

export function watchedFirst<R>(replicas: readonly R[], isWatched: (r: R) => boolean): R[] {
  const watched: R[] = [];
  const rest: R[] = [];
  for (const r of replicas) (isWatched(r) ? watched : rest).push(r);
  return [...watched, ...rest];
}
