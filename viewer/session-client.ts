// Typed socket.io client for the `/viewer` namespace: requests with typed
// results and errors, server notifications as typed events, and automatic
// re-join of the open session after socket.io reconnects.
import { io, type Socket } from 'socket.io-client';
import type {
  JoinResult,
  ViewerNotification,
  ViewerRequest,
  ViewerResponses,
  ViewerServerToClient,
  ViewerClientToServer,
} from '../protocol/signalling.js';
import { ViewerRequestError, isErrorCode } from './request-error.js';
import { checkViewerReply } from './reply-check.js';
import { TypedEmitter } from './typed-emitter.js';
import { debugLog } from './debug-log.js';

const log = debugLog('socket');

export type ConnectionState = 'connecting' | 'connected' | 'reconnecting' | 'refused';

export interface SessionClientEvents {
  state: { state: ConnectionState; detail: string | null };
  notify: ViewerNotification;
  /** The connection dropped while joined: in-flight requests are void. */
  offline: null;
  /** A (re-)join succeeded; `rejoin` is true after a reconnect. */
  joined: { result: JoinResult; rejoin: boolean };
  /** The re-join after a reconnect failed (e.g. the session is gone). */
  rejoinFailed: { error: ViewerRequestError };
}

export interface SessionClientOptions {
  token: string | null;
  /**
   * Another server's origin (cluster mode); absent: the page's own server.
   * Another origin is reached over a websocket only: its long-polling
   * fallback would be a cross-origin XHR the server does not allow.
   */
  url?: string;
  requestTimeoutMs?: number;
}

type RequestOf<T extends ViewerRequest['type']> = Extract<ViewerRequest, { type: T }>;

const NOTIFICATION_TYPES = new Set<ViewerNotification['type']>([
  'session.update',
  'session.closed',
  'consumer.closed',
  'consumer.score',
  'selection.geometry',
]);

export class SessionClient extends TypedEmitter<SessionClientEvents> {
  private readonly socket: Socket<ViewerServerToClient, ViewerClientToServer>;
  private readonly timeoutMs: number;
  private joinedAs: { sessionId: string; clientId: string } | null = null;
  private everConnected = false;
  private stateValue: ConnectionState = 'connecting';
  private refusedRetry: ReturnType<typeof setTimeout> | null = null;
  private refusedAttempts = 0;
  /** The credential this client connected with (REST calls such as thumbnails reuse it). */
  readonly token: string | null;

  constructor(opts: SessionClientOptions) {
    super();
    this.token = opts.token;
    this.timeoutMs = opts.requestTimeoutMs ?? 10_000;
    this.socket = io(opts.url === undefined ? '/viewer' : `${opts.url}/viewer`, {
      ...(opts.url === undefined ? {} : { transports: ['websocket'] }),
      auth: opts.token ? { token: opts.token } : {},
      // socket.io's own backoff: 0.25 s doubling to 0.5 s, jittered. A restarted
      // server is back within a second or two and any wait past that is visible
      // downtime: with a 2 s cap the attempts fell at 0.25, 0.75, 1.75 s, so a
      // server back after 0.8 s was reached a second later.
      reconnectionDelay: 250,
      reconnectionDelayMax: 500,
      randomizationFactor: 0.3,
    });
    this.socket.on('connect', () => this.onConnect());
    this.socket.on('disconnect', (reason) => this.onDisconnect(reason));
    this.socket.on('connect_error', (err) => this.onConnectError(err));
    this.socket.on('notify', (msg: unknown) => this.onNotify(msg));
  }

  get state(): ConnectionState {
    return this.stateValue;
  }

  get connected(): boolean {
    return this.socket.connected;
  }

  /** Sends one request; resolves with its typed result or rejects with ViewerRequestError. */
  request<T extends ViewerRequest['type']>(msg: RequestOf<T>, timeoutMs = this.timeoutMs): Promise<ViewerResponses[T]> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit('request', msg, (err: Error | null, res: unknown) => {
        if (err) {
          reject(new ViewerRequestError('unavailable', `${msg.type}: no answer within ${timeoutMs} ms`));
          return;
        }
        if (typeof res !== 'object' || res === null || !('ok' in res)) {
          reject(new ViewerRequestError('internal', `${msg.type}: malformed reply`));
          return;
        }
        const r = res as {
          ok: boolean;
          data?: unknown;
          error?: { code?: unknown; message?: unknown; details?: unknown };
        };
        if (r.ok) {
          // Nothing is made from an answer that does not have its shape (reply-check.ts).
          const wrong = checkViewerReply(msg.type, r.data);
          if (wrong === null) resolve(r.data as ViewerResponses[T]);
          else reject(new ViewerRequestError('internal', `${msg.type}: malformed reply from the server (${wrong})`));
        } else {
          const code = isErrorCode(r.error?.code) ? r.error.code : 'internal';
          const message = typeof r.error?.message === 'string' ? r.error.message : 'request failed';
          reject(new ViewerRequestError(code, message, r.error?.details));
        }
      });
    });
  }

  /** Joins a session and remembers it, so it is joined again after every reconnect. */
  async join(sessionId: string, clientId: string): Promise<JoinResult> {
    const result = await this.request({ type: 'session.join', sessionId, clientId });
    this.joinedAs = { sessionId, clientId };
    this.emit('joined', { result, rejoin: false });
    return result;
  }

  async leave(): Promise<void> {
    const joined = this.joinedAs;
    this.joinedAs = null;
    if (joined && this.socket.connected)
      await this.request({ type: 'session.leave', sessionId: joined.sessionId }).catch(() => undefined);
  }

  close(): void {
    if (this.refusedRetry) clearTimeout(this.refusedRetry);
    this.socket.close();
    this.removeAllListeners();
  }

  private setState(state: ConnectionState, detail: string | null = null): void {
    this.stateValue = state;
    this.emit('state', { state, detail });
  }

  private onConnect(): void {
    const rejoin = this.everConnected;
    this.everConnected = true;
    this.refusedAttempts = 0;
    this.setState('connected');
    log('connected', { rejoin });
    const joined = this.joinedAs;
    if (!rejoin || !joined) return;
    this.request({ type: 'session.join', sessionId: joined.sessionId, clientId: joined.clientId }).then(
      (result) => {
        if (this.joinedAs === joined) this.emit('joined', { result, rejoin: true });
      },
      (error: unknown) => {
        const e = error instanceof ViewerRequestError ? error : new ViewerRequestError('internal', String(error));
        // A timeout means the link dropped again: the next connect retries.
        if (this.joinedAs === joined && e.code !== 'unavailable') this.emit('rejoinFailed', { error: e });
      },
    );
  }

  private onDisconnect(reason: Socket.DisconnectReason): void {
    log('disconnect', reason);
    if (reason === 'io client disconnect') return;
    this.setState('reconnecting', reason);
    if (this.joinedAs) this.emit('offline', null);
    // The server closed us on purpose (restart, kick): socket.io won't retry by itself.
    if (reason === 'io server disconnect') this.retryLater();
  }

  private onConnectError(err: Error): void {
    log('connect_error', err.message);
    if (this.socket.active) {
      this.setState(this.everConnected ? 'reconnecting' : 'connecting', err.message);
      return;
    }
    // Refused by a server middleware (auth): socket.io stops retrying.
    this.setState('refused', err.message);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.refusedRetry) return;
    const delay = Math.min(30_000, 1000 * 2 ** this.refusedAttempts++);
    this.refusedRetry = setTimeout(() => {
      this.refusedRetry = null;
      this.socket.connect();
    }, delay);
  }

  private onNotify(msg: unknown): void {
    if (typeof msg !== 'object' || msg === null) return;
    const type = (msg as { type?: unknown }).type;
    if (typeof type !== 'string' || !NOTIFICATION_TYPES.has(type as ViewerNotification['type'])) return;
    this.emit('notify', msg as ViewerNotification);
  }
}
