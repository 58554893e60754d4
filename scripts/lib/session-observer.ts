// Watches what the server tells viewers about one session (session.update,
// pushed at every health tick) and when: the chaos run measures a fault's
// detection as the first update in which the server itself judged the host's
// replica stale or dead (or dropped it), not by polling with its threshold.
import type { ViewerNotification } from '../../protocol/signalling.js';
import type { ReplicaInfo } from '../../protocol/session.js';
import { ViewerClient } from './viewer-client.js';

interface Update {
  at: number;
  replicas: ReplicaInfo[];
}

/** The server reacted to the host's replica: judged stale or dead, no longer live, or gone. */
export function reactedTo(replicas: readonly ReplicaInfo[], hostId: string): boolean {
  const r = replicas.find((x) => x.hostId === hostId);
  return !r || r.state !== 'live' || r.verdict === 'stale' || r.verdict === 'dead';
}

export class SessionObserver {
  readonly #client: ViewerClient;
  readonly #updates: Update[] = [];

  private constructor(client: ViewerClient, sessionId: string) {
    this.#client = client;
    client.socket.on('notify', (n: ViewerNotification) => {
      if (n.type !== 'session.update' || n.session.sessionId !== sessionId) return;
      this.#updates.push({ at: Date.now(), replicas: n.session.replicas });
      if (this.#updates.length > 4000) this.#updates.splice(0, 2000);
    });
  }

  static async create(url: string, sessionId: string): Promise<SessionObserver> {
    const client = await ViewerClient.connect(url);
    await client.request({ type: 'session.join', sessionId, clientId: 'chaos-observer' });
    return new SessionObserver(client, sessionId);
  }

  /** ms from `since` (Date.now()) to the first update reacting to `hostId`, or null. */
  reactionAfter(hostId: string, since: number): number | null {
    const u = this.#updates.find((x) => x.at >= since && reactedTo(x.replicas, hostId));
    return u ? u.at - since : null;
  }

  close(): void {
    this.#client.close();
  }
}
