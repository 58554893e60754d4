// The product's Node-side viewer client and helpers (scripts/lib/), under the
// names the tests use, plus the convergence check only tests need.
import type { SessionInfo } from '../../protocol/session.js';

export { RequestFailed } from '../../scripts/lib/request-failed.js';
export { getSession } from '../../scripts/lib/session-rest.js';
export { ViewerClient as TestViewer } from '../../scripts/lib/viewer-client.js';
export { waitFor } from '../../scripts/lib/wait-for.js';

/** `r` live replicas on `r` distinct hosts, all at the head seq with one state hash. */
export function converged(s: SessionInfo, r: number): boolean {
  const live = s.replicas.filter((x) => x.state === 'live');
  return (
    live.length === r &&
    new Set(live.map((x) => x.hostId)).size === r &&
    live.every((x) => x.appliedSeq === s.headSeq && x.stateHash !== null && x.stateHash === live[0]?.stateHash)
  );
}
