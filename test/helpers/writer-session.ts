// The sequence most integration tests start with: create a writer session
// through a viewer, join it, and wait until its replicas are live.
import type { SessionInfo } from '../../protocol/session.js';
import { startNode, startServer, type Proc, type ServerProc } from './processes.js';
import { converged, getSession, TestViewer, waitFor } from './viewer-client.js';

export interface WriterSessionOptions {
  /** Replication factor; also how many live replicas are waited for (unless `live` says otherwise). */
  r: number;
  width?: number;
  height?: number;
}

export interface JoinLiveOptions {
  /** The joining viewer's client id (default 'typist'). */
  clientId?: string;
  /** When the session counts as live (default: `r` live replicas on `r` hosts, converged at the head). */
  live?: (s: SessionInfo) => boolean;
  /** What the wait is called in a timeout's message (default "`r` live"). */
  what?: string;
  timeoutMs?: number;
}

/** Creates a writer session through `viewer`; returns its id. */
export async function createWriterSession(viewer: TestViewer, opts: WriterSessionOptions): Promise<string> {
  const { session } = await viewer.request({
    type: 'sessions.create',
    app: 'writer',
    replicationFactor: opts.r,
    ...(opts.width === undefined ? {} : { width: opts.width }),
    ...(opts.height === undefined ? {} : { height: opts.height }),
  });
  return session.sessionId;
}

/** Joins `sessionId` and waits (on the server at `url`) until it is live; returns what the server then reports. */
export async function joinUntilLive(
  viewer: TestViewer,
  url: string,
  sessionId: string,
  opts: JoinLiveOptions & { r: number },
): Promise<SessionInfo> {
  await viewer.request({ type: 'session.join', sessionId, clientId: opts.clientId ?? 'typist' });
  const live = opts.live ?? ((s: SessionInfo) => converged(s, opts.r));
  return waitFor(
    opts.what ?? `${opts.r} live`,
    async () => {
      const s = await getSession(url, sessionId);
      return live(s) ? s : undefined;
    },
    opts.timeoutMs ?? 30_000,
  );
}

/** Creates a writer session, joins it and waits until it is live: its id and the live session. */
export async function liveWriterSession(
  viewer: TestViewer,
  url: string,
  opts: WriterSessionOptions & JoinLiveOptions,
): Promise<{ sessionId: string; info: SessionInfo }> {
  const sessionId = await createWriterSession(viewer, opts);
  return { sessionId, info: await joinUntilLive(viewer, url, sessionId, opts) };
}

/**
 * The e2e suites' start: a server, one renderer node per host, and a writer session with one replica per host,
 * waited for until every replica is live. The nodes by host id, to kill or restart.
 */
export async function writerOnHosts(
  hosts: readonly string[],
  width: number,
  height: number,
): Promise<{ server: ServerProc; nodes: Map<string, Proc>; sessionId: string }> {
  const server = await startServer();
  const nodes = new Map<string, Proc>();
  for (const h of hosts) nodes.set(h, await startNode({ url: server.url, hostId: h }));
  const v = await TestViewer.connect(server.url);
  const sessionId = await createWriterSession(v, { r: hosts.length, width, height });
  v.close();
  await waitFor(
    `${hosts.length} live replicas`,
    async () =>
      (await getSession(server.url, sessionId)).replicas.filter((r) => r.state === 'live').length === hosts.length,
    30_000,
  );
  return { server, nodes, sessionId };
}
