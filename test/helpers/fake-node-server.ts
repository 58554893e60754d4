// A fake server's /node namespace on 127.0.0.1 (port 0), for a real renderer node process to connect to:
// it records every request and answers each with whatever `answer` says (a hostile server answers
// garbage). Not the product's server: nothing here checks what the node sends.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Server as IoServer, type Socket as ServerSocket } from 'socket.io';

/** A request as the node sent it (parsed by nobody: the tests look at its fields). */
export interface FakeRequest {
  type?: unknown;
  replicaId?: unknown;
  reason?: unknown;
  [key: string]: unknown;
}

/** What the fake acks a request with: any value at all (a Result, or garbage), or `undefined` for no ack. */
export type FakeAnswer = (msg: FakeRequest, n: number) => unknown;

/** A fake server's well-formed answer to node.register (what a real one says, minus a credential). */
export const REGISTERED = { ok: true, data: { registered: true, hostId: 'fake-host' } } as const;

/** The fake's default: register the node, refuse everything else. */
export const registerOnly: FakeAnswer = (msg) =>
  msg.type === 'node.register' ? REGISTERED : { ok: false, error: { code: 'not-found', message: 'fake server' } };

export class FakeNodeServer {
  readonly url: string;
  readonly requests: FakeRequest[] = [];
  /** The node's latest connection. */
  socket: ServerSocket | undefined;
  /** Replaced by the tests as the fake changes its mind (garbage first, then proper answers). */
  answer: FakeAnswer;
  readonly #io: IoServer;

  private constructor(url: string, io: IoServer, answer: FakeAnswer) {
    this.url = url;
    this.#io = io;
    this.answer = answer;
  }

  static async start(answer: FakeAnswer = registerOnly, maxHttpBufferSize = 1e6): Promise<FakeNodeServer> {
    const http = createServer();
    const io = new IoServer(http, { maxHttpBufferSize });
    await new Promise<void>((resolve) => http.listen(0, '127.0.0.1', resolve));
    const fake = new FakeNodeServer(`http://127.0.0.1:${(http.address() as AddressInfo).port}`, io, answer);
    io.of('/node').on('connection', (socket) => {
      fake.socket = socket;
      socket.on('request', (msg: FakeRequest, ack?: (r: unknown) => void) => {
        fake.requests.push(msg);
        const n = fake.requests.filter((r) => r.type === msg.type).length;
        const res = fake.answer(msg, n);
        if (res !== undefined) ack?.(res);
      });
    });
    return fake;
  }

  /** The requests of one type, in order. */
  of(type: string): FakeRequest[] {
    return this.requests.filter((r) => r.type === type);
  }

  close(): Promise<void> {
    return this.#io.close();
  }
}
