// Rebuilds an app's state from a session's durable record (stored snapshot +
// log tail) with the same app code the replicas run: the ground truth the
// demos compare what was typed and every replica's state against.
import type { SequencedInput } from '../../protocol/input.js';
import type { App } from '../../render/app-types.js';
import { getApp } from '../../render/apps/index.js';
import { authHeaders } from './cluster-secrets.js';

/** Applies `log` to `state` in order. */
export function replay<S>(app: App<S>, state: S, log: readonly SequencedInput[]): S {
  return log.reduce((s, input) => app.apply(s, input), state);
}

export async function fetchLog(url: string, sessionId: string, fromSeq = 1): Promise<SequencedInput[]> {
  const all: SequencedInput[] = [];
  for (let from = fromSeq; ;) {
    const res = await fetch(`${url}/api/sessions/${sessionId}/log?from=${from}`, { headers: authHeaders(url) });
    if (!res.ok) throw new Error(`log fetch ${res.status}`);
    const body = (await res.json()) as { inputs: SequencedInput[]; headSeq: number };
    all.push(...body.inputs);
    const last = body.inputs.at(-1)?.seq;
    if (last === undefined || last >= body.headSeq) return all;
    from = last + 1;
  }
}

export interface StoredSnapshotJson {
  seq: number;
  stateHash: string;
  data: string;
}

export async function fetchSnapshot(url: string, sessionId: string): Promise<StoredSnapshotJson | null> {
  const res = await fetch(`${url}/api/sessions/${sessionId}/snapshot`, { headers: authHeaders(url) });
  if (!res.ok) throw new Error(`snapshot fetch ${res.status}`);
  return ((await res.json()) as { snapshot: StoredSnapshotJson | null }).snapshot;
}

/** The app state after every logged input: snapshot (if compacted) + tail. */
export async function referenceState(
  url: string,
  appName: string,
  width: number,
  height: number,
  sessionId: string,
): Promise<unknown> {
  const app = getApp(appName);
  const snap = await fetchSnapshot(url, sessionId);
  const start = snap ? app.restore(Buffer.from(snap.data, 'base64')) : app.init({ width, height });
  return replay(app, start, await fetchLog(url, sessionId, (snap?.seq ?? 0) + 1));
}
