// Where the cluster-wide checkpoint lives in etcd (one place for the layout):
//   <ns>cluster/checkpoint/<session>                     the leader's request (fenced, sealed)
//   <ns>cluster/ckpt-report/<server>/<session>           a home server's relayed answers (its lease, sealed)
//   <ns>cluster/ckpt-data/<session>/<seq>/<hash>/<i>     answer bytes, content-addressed, chunk i (sealed, base64)
//   <ns>cluster/confirmed/<session>                      the latest snapshot the leader confirmed (fenced, sealed)
const enc = (s: string): string => encodeURIComponent(s);

export const checkpointKeys = {
  requests: (ns: string): string => `${ns}cluster/checkpoint/`,
  request: (ns: string, sessionId: string): string => `${ns}cluster/checkpoint/${enc(sessionId)}`,
  reports: (ns: string): string => `${ns}cluster/ckpt-report/`,
  report: (ns: string, serverId: string, sessionId: string): string =>
    `${ns}cluster/ckpt-report/${enc(serverId)}/${enc(sessionId)}`,
  dataAll: (ns: string): string => `${ns}cluster/ckpt-data/`,
  data: (ns: string, sessionId: string): string => `${ns}cluster/ckpt-data/${enc(sessionId)}/`,
  chunk: (ns: string, sessionId: string, seq: number, stateHash: string, i: number): string =>
    `${ns}cluster/ckpt-data/${enc(sessionId)}/${seq}/${stateHash}/${i}`,
  confirmedAll: (ns: string): string => `${ns}cluster/confirmed/`,
  confirmed: (ns: string, sessionId: string): string => `${ns}cluster/confirmed/${enc(sessionId)}`,
};

/** The session and seq a chunk key names (null: not a chunk key of this layout). */
export function parseChunkKey(ns: string, key: string): { sessionId: string; seq: number } | null {
  const root = checkpointKeys.dataAll(ns);
  if (!key.startsWith(root)) return null;
  const parts = key.slice(root.length).split('/');
  const seq = Number(parts[1]);
  if (parts.length !== 4 || !parts[0] || !Number.isSafeInteger(seq)) return null;
  try {
    return { sessionId: decodeURIComponent(parts[0]), seq };
  } catch {
    return null;
  }
}

export const PURPOSE = {
  request: 'checkpoint-request',
  report: 'checkpoint-report',
  confirmed: 'confirmed-snapshot',
  chunk: 'checkpoint-chunk',
} as const;
