// The media of each replica: the WebRTC transport its node produces on and the
// producer on it, keyed by replica id. Held beside the session core (which only
// knows producer ids) so that nothing mediasoup lives in the core.
import type { types } from 'mediasoup';

interface MediaEntry {
  transport: types.WebRtcTransport | null;
  producer: types.Producer | null;
  /** The replica's display channel (tile display), on the same transport. */
  dataProducer: types.DataProducer | null;
}

export class ReplicaMedia {
  readonly #byReplica = new Map<string, MediaEntry>();

  #entry(replicaId: string): MediaEntry {
    let e = this.#byReplica.get(replicaId);
    if (!e) this.#byReplica.set(replicaId, (e = { transport: null, producer: null, dataProducer: null }));
    return e;
  }

  /** A new transport replaces (and closes) the replica's previous one. */
  attachTransport(replicaId: string, transport: types.WebRtcTransport): void {
    const e = this.#entry(replicaId);
    if (e.transport !== transport) e.transport?.close();
    e.transport = transport;
  }

  attachProducer(replicaId: string, producer: types.Producer): void {
    this.#entry(replicaId).producer = producer;
  }

  attachDataProducer(replicaId: string, dataProducer: types.DataProducer): void {
    this.#entry(replicaId).dataProducer = dataProducer;
  }

  /** The replica's open display channel, if any. */
  dataProducer(replicaId: string): types.DataProducer | null {
    const p = this.#byReplica.get(replicaId)?.dataProducer ?? null;
    return p && !p.closed ? p : null;
  }

  /** The replica's open producer, if any. */
  producer(replicaId: string): types.Producer | null {
    const p = this.#byReplica.get(replicaId)?.producer ?? null;
    return p && !p.closed ? p : null;
  }

  /** Closes the replica's media (the SFU tells consumers their producer is gone). */
  release(replicaId: string): void {
    const e = this.#byReplica.get(replicaId);
    this.#byReplica.delete(replicaId);
    e?.transport?.close();
  }

  releaseAll(): void {
    for (const id of [...this.#byReplica.keys()]) this.release(id);
  }
}
