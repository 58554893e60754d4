// One server a viewer holds a link to: its signalling socket (a SessionClient),
// whether the session is joined there, the session as that server reports it
// (the replicas it homes), and the receive transport into its SFU. Owned by
// SessionLinks (one per server); the stream manager consumes each replica
// through the link of its home server.
import type { types as ms } from 'mediasoup-client';
import type { JoinResult, ViewerNotification } from '../protocol/signalling.js';
import type { SessionInfo } from '../protocol/session.js';
import { SessionClient, type ConnectionState } from './session-client.js';
import type { ViewerRequestError } from './request-error.js';
import { TypedEmitter } from './typed-emitter.js';
import { debugLog } from './debug-log.js';

const log = debugLog('link');

export interface ServerLinkEvents {
  state: { state: ConnectionState; detail: string | null };
  /** A (re-)join succeeded on this server. */
  joined: { result: JoinResult; rejoin: boolean };
  /** The socket dropped while joined: this server's transport and consumers are gone. */
  offline: null;
  rejoinFailed: { error: ViewerRequestError };
  notify: ViewerNotification;
  /** This server's media connection failed. */
  mediaFailed: null;
}

export class ServerLink extends TypedEmitter<ServerLinkEvents> {
  /** The server's origin. */
  readonly url: string;
  readonly client: SessionClient;
  #joined = false;
  /** Joined once and no re-join failed since: the SessionClient re-joins after every reconnect. */
  #rejoinsItself = false;
  #session: SessionInfo | null = null;
  #receivedAt = 0;
  #routerRtpCapabilities: unknown = null;
  #transport: ms.Transport | null = null;
  #closed = false;

  /** `pageOwn`: the server the page came from (reached by relative URL, as in single-server mode). */
  constructor(opts: { url: string; token: string | null; pageOwn: boolean; now?: () => number }) {
    super();
    this.url = opts.url;
    const now = opts.now ?? (() => performance.now());
    this.client = new SessionClient({ token: opts.token, ...(opts.pageOwn ? {} : { url: opts.url }) });
    this.client.on('state', (s) => this.emit('state', s));
    this.client.on('joined', (j) => {
      this.#joined = true;
      this.#rejoinsItself = true;
      this.#noteSession(j.result.session, now());
      this.#routerRtpCapabilities = j.result.routerRtpCapabilities;
      this.emit('joined', j);
    });
    this.client.on('offline', () => {
      this.#joined = false;
      this.closeTransport();
      this.emit('offline', null);
    });
    this.client.on('rejoinFailed', (e) => {
      this.#joined = false;
      this.#rejoinsItself = false;
      this.emit('rejoinFailed', e);
    });
    this.client.on('notify', (n) => {
      if (n.type === 'session.update' && this.#session && n.session.sessionId === this.#session.sessionId)
        this.#noteSession(n.session, now());
      this.emit('notify', n);
    });
  }

  get joined(): boolean {
    return this.#joined;
  }

  get rejoinsItself(): boolean {
    return this.#rejoinsItself;
  }

  get connected(): boolean {
    return this.client.connected;
  }

  get state(): ConnectionState {
    return this.client.state;
  }

  /** The session as this server last reported it (the replicas it homes), null before a join. */
  get session(): SessionInfo | null {
    return this.#session;
  }

  get receivedAt(): number {
    return this.#receivedAt;
  }

  get routerRtpCapabilities(): unknown {
    return this.#routerRtpCapabilities;
  }

  /** The receive transport into this server's SFU, null until opened (and after the link dropped). */
  get transport(): ms.Transport | null {
    return this.#transport;
  }

  join(sessionId: string, clientId: string): Promise<JoinResult> {
    return this.client.join(sessionId, clientId);
  }

  #noteSession(s: SessionInfo, at: number): void {
    this.#session = s;
    this.#receivedAt = at;
  }

  /**
   * A fresh receive transport on this server (the old one, if any, is closed first). `sctp`: display
   * channels too (the tile display); the server leaves it out when its tile display is off.
   */
  async openTransport(device: ms.Device, sessionId: string, sctp = false): Promise<ms.Transport | null> {
    this.closeTransport();
    const params = await this.client.request({ type: 'transport.create', sessionId, ...(sctp ? { sctp } : {}) });
    if (this.#closed || !this.#joined) return null;
    const transport = device.createRecvTransport({
      id: params.id,
      iceParameters: params.iceParameters as ms.IceParameters,
      iceCandidates: params.iceCandidates as ms.IceCandidate[],
      dtlsParameters: params.dtlsParameters as ms.DtlsParameters,
      ...(sctp && params.sctpParameters ? { sctpParameters: params.sctpParameters as ms.SctpParameters } : {}),
    });
    transport.on('connect', ({ dtlsParameters }, callback, errback) => {
      this.client.request({ type: 'transport.connect', transportId: transport.id, dtlsParameters }).then(
        () => callback(),
        (err: unknown) => errback(err instanceof Error ? err : new Error(String(err))),
      );
    });
    transport.on('connectionstatechange', (state) => {
      log('transport', this.url, state);
      if (state === 'failed') this.emit('mediaFailed', null);
    });
    this.#transport = transport;
    return transport;
  }

  closeTransport(): void {
    if (this.#transport && !this.#transport.closed) this.#transport.close();
    this.#transport = null;
  }

  close(): void {
    this.#closed = true;
    this.#joined = false;
    this.closeTransport();
    this.client.close();
    this.removeAllListeners();
  }
}
