// A Node-side viewer: the same /viewer socket protocol the browser speaks,
// minus the video. The demos create sessions with it; tests drive it too.
import { io, type Socket } from 'socket.io-client';
import type { Result } from '../../protocol/errors.js';
import type { InputEvent } from '../../protocol/input.js';
import { NO_MODS } from '../../protocol/input.js';
import type {
  ViewerClientToServer,
  ViewerNotification,
  ViewerRequest,
  ViewerResponses,
  ViewerServerToClient,
} from '../../protocol/signalling.js';
import { ownerTokenFor } from './cluster-secrets.js';
import { RequestFailed } from './request-failed.js';

export class ViewerClient {
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

  /** Connects with `token`, by default the owner token of the launched server at `url` ('' connects without one). */
  static async connect(url: string, token: string = ownerTokenFor(url)): Promise<ViewerClient> {
    const socket: Socket<ViewerServerToClient, ViewerClientToServer> = io(`${url}/viewer`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      // One connection per viewer client: a kick (revoked token) closes the whole connection.
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', reject);
    });
    return new ViewerClient(socket);
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
