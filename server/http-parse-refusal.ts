// Requests Node's HTTP parser refuses before express sees them (headers over
// its 16 KB limit, a malformed request line, a header that never ends) get
// the same typed JSON error as every other refusal (protocol/errors.ts)
// instead of Node's bare status line, and close only their own connection.
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { HTTP_STATUS, type ErrorCode } from '../protocol/errors.js';
import { getLogger } from '../protocol/logger.js';

const log = getLogger('http-parse-refusal');

/** Which typed error a parser failure is; null: nothing worth answering (the peer went away). */
export function parseRefusal(errCode: string | undefined): { code: ErrorCode; message: string } | null {
  switch (errCode) {
    case 'HPE_HEADER_OVERFLOW':
      return { code: 'headers-too-large', message: 'request headers larger than the server accepts' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { code: 'bad-request', message: 'request headers not received in time' };
    case 'ECONNRESET':
    case 'EPIPE':
      return null;
    default:
      return { code: 'bad-request', message: 'malformed HTTP request' };
  }
}

/** The http server's 'clientError' handler: one typed JSON answer, then this connection closes. */
export function refuseUnparsedRequest(err: NodeJS.ErrnoException, socket: Duplex): void {
  const refusal = parseRefusal(err.code);
  // A response already started on this connection, or nobody to answer: just close it.
  if (refusal === null || !socket.writable || (socket as { _httpMessage?: unknown })._httpMessage) {
    socket.destroy();
    return;
  }
  log.debug({ code: err.code }, 'request refused by the HTTP parser');
  const status = HTTP_STATUS[refusal.code];
  const body = JSON.stringify({ error: refusal });
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status] ?? 'Bad Request'}\r\n` +
      'Content-Type: application/json; charset=utf-8\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n\r\n' +
      body,
    // The server allows half-open sockets: without this the connection would linger until the headers timeout.
    () => socket.destroy(),
  );
}
