// One socket.io connection attempt: 'connected', or the server's refusal
// (the connect_error message). Closes the socket either way.
import { io } from 'socket.io-client';

export function tryConnect(url: string, opts: Parameters<typeof io>[1] = {}): Promise<string> {
  return new Promise((resolve) => {
    const s = io(url, { reconnection: false, forceNew: true, ...opts });
    s.once('connect', () => {
      s.close();
      resolve('connected');
    });
    s.once('connect_error', (err) => {
      s.close();
      resolve(err.message);
    });
  });
}
