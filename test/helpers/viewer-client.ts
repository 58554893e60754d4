// A Node-side viewer for integration tests: the same /viewer socket protocol
// the browser speaks, minus the video.
import { io, type Socket } from 'socket.io-client';
import type { Result } from '../../protocol/errors.js';
import type { InputEvent } from '../../protocol/input.js';
import { NO_MODS } from '../../protocol/input.js';
import type { SessionInfo } from '../../protocol/session.js';
import type {
  ViewerClientToServer,
  ViewerNotification,
  ViewerRequest,
  ViewerResponses,
  ViewerServerToClient,
} from '../../protocol/signalling.js';
import { authHeaders, ownerTokenFor } from './credentials.js';

export class RequestFailed extends Error {
  constructor(
    readonly code: string,
    message: string,
  ) {
    super(`${code}: ${message}`);
  }
}

export class TestViewer {
  readonly socket: Socket<ViewerServerToClient, ViewerClientToServer>;
  readonly notifications: ViewerNotification[] = [];
  clientSeq = 0;

  private constructor(socket: Socket<ViewerServerToClient, ViewerClientToServer>) {
    this.socket = socket;
    socket.on('notify', (n) => {
      this.notifications.push(n);
      if (this.notifications.length > 2000) this.notifications.splice(0, 1000);
    });
  }

  /** Connects with `token`, by default the owner token of the test server at `url` ('' connects without one). */
  static async connect(url: string, token: string = ownerTokenFor(url)): Promise<TestViewer> {
    const socket: Socket<ViewerServerToClient, ViewerClientToServer> = io(`${url}/viewer`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      // One connection per test viewer: a kick (revoked token) closes the whole connection.
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new TestViewer(socket);
  }

  /** Sends anything (also malformed messages) and returns the raw Result. */
  raw(msg: unknown, timeoutMs = 10_000): Promise<Result<unknown>> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit('request', msg, (err: Error | null, res: Result<unknown>) => {
        if (err) reject(err);
        else resolve(res);
      });
    });
  }

  async request<T extends ViewerRequest['type']>(
    msg: Extract<ViewerRequest, { type: T }>,
  ): Promise<ViewerResponses[T]> {
    const res = await this.raw(msg);
    if (!res.ok) throw new RequestFailed(res.error.code, res.error.message);
    return res.data as ViewerResponses[T];
  }

  async type(sessionId: string, text: string): Promise<number[]> {
    const seqs: number[] = [];
    for (const ch of [...text]) {
      const down: InputEvent = { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS };
      const up: InputEvent = { type: 'key', action: 'up', key: ch, code: '', mods: NO_MODS };
      seqs.push((await this.request({ type: 'input', sessionId, clientSeq: this.clientSeq++, event: down })).seq);
      seqs.push((await this.request({ type: 'input', sessionId, clientSeq: this.clientSeq++, event: up })).seq);
    }
    return seqs;
  }

  close(): void {
    this.socket.close();
  }
}

export async function getSession(url: string, sessionId: string, token?: string): Promise<SessionInfo> {
  const res = await fetch(`${url}/api/sessions/${sessionId}`, { headers: authHeaders(url, token) });
  if (!res.ok) throw new Error(`GET session ${sessionId}: ${res.status}`);
  return ((await res.json()) as { session: SessionInfo }).session;
}

export async function waitFor<T>(
  what: string,
  fn: () => Promise<T | undefined | false> | T | undefined | false,
  timeoutMs = 20_000,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > deadline)
      throw new Error(`timed out waiting for ${what}${last instanceof Error ? `: ${last.message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** `r` live replicas on `r` distinct hosts, all at the head seq with one state hash. */
export function converged(s: SessionInfo, r: number): boolean {
  const live = s.replicas.filter((x) => x.state === 'live');
  return (
    live.length === r &&
    new Set(live.map((x) => x.hostId)).size === r &&
    live.every((x) => x.appliedSeq === s.headSeq && x.stateHash !== null && x.stateHash === live[0]?.stateHash)
  );
}
