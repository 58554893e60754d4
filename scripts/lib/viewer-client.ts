// A Node-side viewer: the same /viewer socket protocol the browser speaks,
// minus the video. The demos create sessions with it; tests drive it too.
import { io, type Socket } from 'socket.io-client';
import { wantsInput, type AppInputs } from '../../protocol/app-inputs.js';
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
import type { SessionInfo } from '../../protocol/session.js';
import { ownerTokenFor } from './cluster-secrets.js';
import { RequestFailed } from './request-failed.js';

export class ViewerClient {
  readonly socket: Socket<ViewerServerToClient, ViewerClientToServer>;
  readonly notifications: ViewerNotification[] = [];
  clientSeq = 0;
  /** What each joined or created session's app reads (its SessionInfo): `type` sends only those inputs. */
  private readonly appInputs = new Map<string, AppInputs>();

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
    if (msg.type === 'session.join' || msg.type === 'sessions.create') {
      const { session } = res.data as { session: SessionInfo };
      this.appInputs.set(session.sessionId, session.inputs);
    }
    return res.data as ViewerResponses[T];
  }

  /**
   * Types `text` as a keyboard would: a press per character and its release,
   * the release only for an app that reads them (as the browser viewer does).
   * Returns the seqs of the inputs logged, in order.
   */
  async type(sessionId: string, text: string): Promise<number[]> {
    const seqs: number[] = [];
    for (const ch of [...text]) {
      const down: InputEvent = { type: 'key', action: 'down', key: ch, code: '', text: ch, mods: NO_MODS };
      const up: InputEvent = { type: 'key', action: 'up', key: ch, code: '', mods: NO_MODS };
      for (const event of [down, up]) {
        if (!wantsInput(this.appInputs.get(sessionId), event)) continue;
        seqs.push((await this.request({ type: 'input', sessionId, clientSeq: this.clientSeq++, event })).seq);
      }
    }
    return seqs;
  }

  close(): void {
    this.socket.close();
  }
}
