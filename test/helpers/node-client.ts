// A raw /node socket for security and fuzz tests: speaks the node protocol
// without rendering anything, and records what the server pushes to it.
import { io, type Socket } from 'socket.io-client';
import type { Result } from '../../protocol/errors.js';
import type { NodeClientToServer, NodeNotification, NodeServerToClient } from '../../protocol/signalling.js';

export class RawNode {
  readonly socket: Socket<NodeServerToClient, NodeClientToServer>;
  readonly notifications: NodeNotification[] = [];

  private constructor(socket: Socket<NodeServerToClient, NodeClientToServer>) {
    this.socket = socket;
    socket.on('notify', (n) => {
      this.notifications.push(n);
      if (this.notifications.length > 5000) this.notifications.splice(0, 2500);
    });
  }

  /** Resolves once connected; rejects with the server's refusal (connect_error). */
  static async connect(url: string, token: string): Promise<RawNode> {
    const socket: Socket<NodeServerToClient, NodeClientToServer> = io(`${url}/node`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      // Never multiplex onto another test client's connection: the server may
      // close a node's whole connection (dead node, revoked credential).
      forceNew: true,
    });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', () => resolve());
      socket.once('connect_error', (err) => {
        socket.close();
        reject(err);
      });
    });
    return new RawNode(socket);
  }

  raw(msg: unknown, timeoutMs = 10_000): Promise<Result<unknown>> {
    return new Promise((resolve, reject) => {
      this.socket.timeout(timeoutMs).emit('request', msg, (err: Error | null, res: Result<unknown>) => {
        if (err) reject(err);
        else resolve(res);
      });
    });
  }

  close(): void {
    this.socket.close();
  }
}
