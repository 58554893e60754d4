// A headless client that types through one server of a cluster and, when no
// ack arrives within a short bound (or that server's socket is gone), sends
// the same (client id, client seq) through the next one: the viewer's rule
// for surviving a server's death, without the video. Inputs go one at a time
// (each client's seqs must be contiguous), each acknowledged before the next.
import type { InputEvent } from '../../protocol/input.js';
import type { InputAck } from '../../protocol/signalling.js';
import { ViewerClient } from '../../scripts/lib/viewer-client.js';

export interface TypedInput {
  clientSeq: number;
  seq: number;
  /** The server whose ack counted. */
  via: string;
  /** Sends through other servers before the ack (0: the first one answered). */
  resends: number;
  /** ms from the first send to the ack. */
  ackMs: number;
  sentAt: number;
}

export interface ResendingTypistOptions {
  urls: readonly string[];
  sessionId: string;
  clientId: string;
  /** No ack within this: resend through the next server (default 500 ms). */
  ackTimeoutMs?: number;
  /** Connecting and joining a server gives up after this (default 1000 ms). */
  connectTimeoutMs?: number;
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string, onLate?: (v: T) => void): Promise<T> {
  return new Promise((resolve, reject) => {
    let done = false;
    const timer = setTimeout(() => {
      done = true;
      reject(new Error(`${what}: no answer within ${ms} ms`));
    }, ms);
    p.then(
      (v) => {
        clearTimeout(timer);
        if (done) onLate?.(v);
        else resolve(v);
      },
      (err: unknown) => {
        clearTimeout(timer);
        if (!done) reject(err instanceof Error ? err : new Error(String(err)));
      },
    );
  });
}

export class ResendingTypist {
  readonly acked: TypedInput[] = [];
  /** Every refusal or timeout met on the way (url, clientSeq, why), for diagnostics. */
  readonly misses: Array<{ url: string; clientSeq: number; why: string }> = [];
  readonly #o: Required<ResendingTypistOptions>;
  readonly #clients = new Map<string, ViewerClient>();
  /** Index into urls of the server tried first. */
  #preferred = 0;
  #nextClientSeq = 0;
  #closed = false;

  constructor(options: ResendingTypistOptions) {
    if (options.urls.length === 0) throw new Error('at least one server URL');
    this.#o = { ackTimeoutMs: 500, connectTimeoutMs: 1000, ...options };
  }

  /** The server the next input is sent through first. */
  get preferredUrl(): string {
    return this.#o.urls[this.#preferred] ?? '';
  }

  /** Sends one input, through the preferred server and then the others in turn, until one acknowledges it. */
  async send(event: InputEvent, giveUpAfterMs = 30_000): Promise<TypedInput> {
    const clientSeq = this.#nextClientSeq;
    const sentAt = Date.now();
    let resends = 0;
    for (let attempt = 0; ; attempt++) {
      if (this.#closed) throw new Error('typist closed');
      if (Date.now() - sentAt > giveUpAfterMs) throw new Error(`clientSeq ${clientSeq}: no server acknowledged it`);
      const i = (this.#preferred + attempt) % this.#o.urls.length;
      const url = this.#o.urls[i] ?? '';
      if (attempt > 0) resends++;
      try {
        const ack = await this.#sendVia(url, clientSeq, event);
        this.#preferred = i;
        this.#nextClientSeq++;
        const done: TypedInput = { clientSeq, seq: ack.seq, via: url, resends, ackMs: Date.now() - sentAt, sentAt };
        this.acked.push(done);
        return done;
      } catch (err) {
        this.misses.push({ url, clientSeq, why: err instanceof Error ? err.message : String(err) });
        // A whole round refused: wait a little before the next (no quorum, every server restarting).
        if ((attempt + 1) % this.#o.urls.length === 0) await new Promise((r) => setTimeout(r, 100));
      }
    }
  }

  async #sendVia(url: string, clientSeq: number, event: InputEvent): Promise<InputAck> {
    const client = await this.#connection(url);
    const res = await withTimeout(
      client.raw({ type: 'input', sessionId: this.#o.sessionId, clientSeq, event }, this.#o.ackTimeoutMs + 1000),
      this.#o.ackTimeoutMs,
      `input ${clientSeq} via ${url}`,
    );
    if (!res.ok) throw new Error(`${res.error.code}: ${res.error.message}`);
    return res.data as InputAck;
  }

  /** An open, joined connection to `url`: reused while its socket lives, made anew otherwise. */
  async #connection(url: string): Promise<ViewerClient> {
    const known = this.#clients.get(url);
    if (known?.socket.connected) return known;
    known?.close();
    this.#clients.delete(url);
    const client = await withTimeout(ViewerClient.connect(url), this.#o.connectTimeoutMs, `connect ${url}`, (late) =>
      late.close(),
    );
    try {
      await withTimeout(
        client.request({ type: 'session.join', sessionId: this.#o.sessionId, clientId: this.#o.clientId }),
        this.#o.connectTimeoutMs,
        `join via ${url}`,
      );
    } catch (err) {
      client.close();
      throw err;
    }
    if (this.#closed) {
      client.close();
      throw new Error('typist closed');
    }
    this.#clients.set(url, client);
    return client;
  }

  close(): void {
    this.#closed = true;
    for (const c of this.#clients.values()) c.close();
    this.#clients.clear();
  }
}
