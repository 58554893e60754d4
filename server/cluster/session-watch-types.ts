// Types of the cluster session watch (session-watch.ts).
import type { Etcd3 } from 'etcd3';
import type { SessionRecord } from '../session-store.js';

export interface SessionWatchOptions {
  client: Etcd3;
  /** The etcd session store's namespace (e.g. "lockstep/"). */
  namespace: string;
}

export interface SessionWatchEvents {
  /** A session was created (by any server). */
  created: [row: SessionRecord];
  /** A session was closed (by any server). */
  closed: [sessionId: string];
}
