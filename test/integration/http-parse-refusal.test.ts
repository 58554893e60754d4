// Requests the HTTP parser refuses before any route (a 20 KB bearer header, a
// garbage request line) get a typed JSON error on a real server, close only
// their own connection, and the server keeps serving (server/http-parse-refusal.ts).
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { after, describe, it } from 'node:test';
import { WireErrorSchema } from '../../protocol/errors.js';
import { refuseUnparsedRequest } from '../../server/http-parse-refusal.js';
import { startServer, stopAll } from '../helpers/processes.js';

/** One raw request over its own TCP connection; the whole answer, once the server closes it. */
function raw(url: string, request: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => socket.end(request));
    let text = '';
    socket.setEncoding('utf8');
    socket.on('data', (d: string) => (text += d));
    socket.on('close', () => resolve(text));
    socket.on('error', reject);
    socket.setTimeout(10_000, () => socket.destroy(new Error('no answer in 10 s')));
  });
}

function typed(answer: string): { status: number; code: string } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const status = Number(/^HTTP\/1\.1 (\d{3}) /.exec(head)?.[1]);
  assert.match(head, /content-type: application\/json/i, `a JSON answer: ${head}`);
  const { error } = JSON.parse(body) as { error: unknown };
  return { status, code: WireErrorSchema.parse(error).code };
}

describe('requests the HTTP parser refuses', () => {
  after(stopAll);

  it('a 20 KB header gets a typed 431, a garbage request line a typed 400, and the server keeps serving', async () => {
    const server = await startServer();
    const { host } = new URL(server.url);
    const huge = await raw(
      server.url,
      `GET /api/whoami HTTP/1.1\r\nHost: ${host}\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`,
    );
    assert.deepEqual(typed(huge), { status: 431, code: 'headers-too-large' });
    const garbage = await raw(server.url, 'NOT HTTP AT ALL\r\n\r\n');
    assert.deepEqual(typed(garbage), { status: 400, code: 'bad-request' });
    const binary = await raw(server.url, '\u0000\u0001\u0002GET / HTTP/1.1\r\n\r\n');
    assert.deepEqual(typed(binary), { status: 400, code: 'bad-request' });
    // Still serving, with the usual typed answer for a missing token.
    const res = await fetch(`${server.url}/api/whoami`);
    assert.equal(res.status, 401);
    assert.equal(WireErrorSchema.parse(((await res.json()) as { error: unknown }).error).code, 'unauthorized');
  });

  it('a refused connection is closed on the server side too, even when the client keeps its half open', async () => {
    // Node's HTTP server allows half-open sockets: an answer ended but not destroyed would linger until the
    // headers timeout (60 s), one per garbage request.
    const srv: Server = createServer((_req, res) => res.end('ok'));
    srv.on('clientError', refuseUnparsedRequest);
    await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
    const { port } = srv.address() as AddressInfo;
    const answered: Promise<void>[] = [];
    const clients = Array.from({ length: 5 }, () => {
      const c = connect(port, '127.0.0.1');
      // Keep our half open after the server's FIN (set on the socket: net.connect's option did not hold here).
      (c as { allowHalfOpen: boolean }).allowHalfOpen = true;
      answered.push(new Promise((resolve) => c.once('end', () => resolve())));
      c.on('error', () => undefined);
      c.on('data', () => undefined);
      c.write('GARBAGE\r\n\r\n');
      return c;
    });
    const open = (): Promise<number> =>
      new Promise((resolve, reject) => srv.getConnections((err, n) => (err ? reject(err) : resolve(n))));
    try {
      await Promise.all(answered); // every client has its answer and the server's FIN
      const deadline = Date.now() + 3000;
      let n = await open();
      while (n > 0 && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, 50));
        n = await open();
      }
      assert.equal(n, 0, 'no refused connection left open on the server');
    } finally {
      for (const c of clients) c.destroy();
      await new Promise<void>((resolve) => srv.close(() => resolve()));
    }
  });
});
