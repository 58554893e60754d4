// The socket.io middleware both gateways put in front of their namespace: the
// handshake token is checked against the credential store (asynchronous: with
// etcd it is a round trip), the result kept on the socket. A store that cannot
// answer refuses the connection with a retryable reason rather than a crash or
// a silent "unauthorized".
import type { Socket } from 'socket.io';
import type { Logger } from '../protocol/logger.js';

export function handshakeAuth<T>(opts: {
  authenticate: (token: string) => Promise<T | null>;
  /** Where on socket.data the result goes. */
  field: string;
  /** The refusal a client sees for a missing or invalid token. */
  refusal: string;
  log: Logger;
}): (socket: Socket, next: (err?: Error) => void) => void {
  return (socket, next) => {
    const token: unknown = socket.handshake.auth.token;
    (typeof token === 'string' ? opts.authenticate(token) : Promise.resolve(null)).then(
      (value) => {
        if (value === null) {
          next(new Error(opts.refusal));
          return;
        }
        (socket.data as Record<string, unknown>)[opts.field] = value;
        next();
      },
      (err: unknown) => {
        opts.log.warn({ err }, 'credential check failed');
        next(new Error('unavailable: credentials cannot be checked now, retry'));
      },
    );
  };
}
