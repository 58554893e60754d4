// The shell every socket.io gateway shares: the handshake token checked
// before a connection is accepted, a request budget per connection, parsing
// and dispatch of each request (request-dispatch.ts), dropping connections by
// credential, and a periodic re-check of every live connection's credential
// (revocations made elsewhere, expiry). Subclasses say what a connection does.
import type { Namespace, Socket } from 'socket.io';
import type { z } from 'zod';
import { fail, type Result } from '../protocol/errors.js';
import type { Logger } from '../protocol/logger.js';
import { RateLimitedError } from './errors.js';
import { handshakeAuth } from './handshake-auth.js';
import { TokenBucket } from './rate-limit.js';
import { dispatcher, type Ack } from './request-dispatch.js';

/** What every client sends a gateway: requests, each acknowledged with a Result. */
export interface GatewayClientToServer {
  request: (msg: unknown, ack: (res: Result<unknown>) => void) => void;
}

/** One accepted connection: handles its parsed requests, cleans up when it drops. */
export interface GatewayConnection<R> {
  handle(msg: R): unknown;
  close(reason: string): void;
}

export interface SocketGatewayOptions<A, R> {
  /** Maps the handshake token to the credential the connection acts with; null refuses it. */
  authenticate: (token: string) => Promise<A | null>;
  /** Where on socket.data the credential is kept. */
  field: string;
  /** What a client with a missing or invalid token is told. */
  refusal: string;
  schema: z.ZodType<R, z.ZodTypeDef, unknown>;
  requestsPerSecond: number;
  revalidateEveryMs: number;
  log: Logger;
}

export abstract class SocketGateway<A, R extends { type: string }, S extends object> {
  protected readonly nsp: Namespace<GatewayClientToServer, S>;
  readonly #options: SocketGatewayOptions<A, R>;
  readonly #revalidate: NodeJS.Timeout;

  constructor(nsp: Namespace<GatewayClientToServer, S>, options: SocketGatewayOptions<A, R>) {
    this.nsp = nsp;
    this.#options = options;
    nsp.use(
      handshakeAuth({
        authenticate: options.authenticate,
        field: options.field,
        refusal: options.refusal,
        log: options.log,
      }),
    );
    this.#revalidate = setInterval(() => this.#sweep(), options.revalidateEveryMs);
    this.#revalidate.unref();
    nsp.on('connection', (socket) => this.#onConnection(socket));
  }

  /** A new authenticated connection. */
  protected abstract connect(socket: Socket<GatewayClientToServer, S>, auth: A): GatewayConnection<R>;

  /**
   * Whether a live connection's credential still holds: false drops it now, a
   * promise asks the store (a store that cannot answer keeps the connection;
   * the next sweep asks again).
   */
  protected abstract stillValid(auth: A, now: number): boolean | Promise<boolean>;

  /** The credential ids a connection stands on: kicking any of them drops it. */
  protected abstract credentialIds(socket: Socket<GatewayClientToServer, S>, auth: A): Array<string | null | undefined>;

  /** True when the credential has run out and a request must be refused (default: left to the sweep). */
  protected expired(_auth: A, _now: number): boolean {
    return false;
  }

  protected authOf(socket: { data: unknown }): A | undefined {
    return (socket.data as Record<string, A | undefined>)[this.#options.field];
  }

  #onConnection(socket: Socket<GatewayClientToServer, S>): void {
    const auth = this.authOf(socket);
    if (auth === undefined) {
      socket.disconnect(true);
      return;
    }
    const conn = this.connect(socket, auth);
    const { log } = this.#options;
    const handle = dispatcher(this.#options.schema, log, (msg: R) => conn.handle(msg));
    // Bounded before parsing: a flood costs one comparison per message.
    const bucket = new TokenBucket(this.#options.requestsPerSecond, 'requests');
    socket.on('request', (raw: unknown, ackArg?: unknown) => {
      const ack: Ack = typeof ackArg === 'function' ? (ackArg as Ack) : () => undefined;
      if (this.expired(auth, Date.now())) {
        ack(fail('unauthorized', 'this token has expired'));
        socket.disconnect(true);
        return;
      }
      try {
        bucket.take();
      } catch (err) {
        if (err instanceof RateLimitedError) ack(fail(err.code, err.message));
        return;
      }
      handle(raw, ack);
    });
    socket.on('disconnect', (reason) => conn.close(reason));
  }

  /** Drops every connection that stands on one of these credentials (revoked); how many. */
  kick(tokenIds: Iterable<string>): number {
    const ids = new Set(tokenIds);
    let n = 0;
    for (const socket of this.nsp.sockets.values()) {
      const auth = this.authOf(socket);
      const used = auth === undefined ? [] : this.credentialIds(socket, auth);
      if (used.some((id) => id !== undefined && id !== null && ids.has(id))) {
        socket.disconnect(true);
        n++;
      }
    }
    return n;
  }

  #sweep(): void {
    const now = Date.now();
    for (const socket of this.nsp.sockets.values()) {
      const auth = this.authOf(socket);
      const valid = auth === undefined ? false : this.stillValid(auth, now);
      if (valid === false) socket.disconnect(true);
      else if (valid !== true) {
        valid.then(
          (active) => {
            if (!active) socket.disconnect(true);
          },
          (err: unknown) => this.#options.log.warn({ err }, 'credential re-check failed'),
        );
      }
    }
  }

  close(): void {
    clearInterval(this.#revalidate);
  }
}
