// The tile display (`?display=tiles`, docs/tile-display.md), phase 1: the shown
// stream is drawn from its replica's display channel into a canvas instead of
// decoding its video, which is paused at the SFU while the canvas shows it. A
// safe hybrid around today's video path, which stays as it is: whenever a
// stream becomes the shown one (start, switch, failover) its video is resumed
// by the StreamManager as always; once that video has presented, this opens
// the replica's display channel, and once the channel's first whole frame is
// drawn the canvas goes on top and the video is paused (its sink detached:
// nothing decoded, no media player). The channel's seqs feed the stream's own
// FrameTimeline, so the stale and frozen rules, the scores and the
// input-to-photon samples keep working unchanged. A refused message, a closed
// channel or a switch ends it: the video is resumed (with a key frame) and the
// canvas stays on top until that video has a frame. A stream whose channel
// failed is not tried again until it is shown anew.
import type { types as ms } from 'mediasoup-client';
import type { ServerLink } from './server-link.js';
import type { StreamSink, SinkPicture } from './stream-sink.js';
import type { AppSize } from './coords.js';
import { TileSink, type TileSinkCounters } from './tile-sink.js';
import { debugLog } from './debug-log.js';

const log = debugLog('tiles');

/** What the StreamManager tells about the shown stream. */
export interface TileTarget {
  replicaId: string;
  link: ServerLink;
  /** The stream's video consumer and its sink (the stamp reader's timeline is the one tiles feed). */
  consumer: ms.Consumer;
  sink: StreamSink;
  /** The video presented a frame since it was last resumed. */
  presented: boolean;
}

/** Where the shown stream's tile display stands, for the page hook and tests. */
export interface TileDisplayState {
  replicaId: string | null;
  /** The canvas is the display and the video is paused. */
  shown: boolean;
  /** Seq of the last frame the canvas drew; null before one. */
  drawnSeq: number | null;
  counters: TileSinkCounters | null;
  /** Channels given up (a refused message, a closed channel, no channel to open), and the last reason. */
  failures: number;
  /** Of those, channels whose message was refused (a bad header, a tile outside the app area, a lying PNG). */
  refusals: number;
  lastFailure: string | null;
}

interface Channel {
  target: TileTarget;
  sink: TileSink;
  dataConsumer: ms.DataConsumer | null;
  /** The canvas is on top and the video paused. */
  shown: boolean;
  closed: boolean;
}

export class TileDisplay {
  readonly #stage: HTMLElement;
  #current: Channel | null = null;
  /** Channels ended whose canvas stays until the shown video has a frame. */
  readonly #leaving = new Set<Channel>();
  /** Replicas whose channel failed while shown (not retried until shown anew). */
  readonly #failed = new Set<string>();
  #failures = 0;
  #refusals = 0;
  #lastFailure: string | null = null;

  constructor(stage: HTMLElement) {
    this.#stage = stage;
  }

  get state(): TileDisplayState {
    const c = this.#current;
    return {
      replicaId: c?.target.replicaId ?? null,
      shown: !!c?.shown,
      drawnSeq: c && c.sink.synced ? (c.target.sink.timeline.lastSeq ?? null) : null,
      counters: c ? { ...c.sink.counters } : null,
      failures: this.#failures,
      refusals: this.#refusals,
      lastFailure: this.#lastFailure,
    };
  }

  /**
   * Whether the replica's seqs now come from drawn tiles (its channel is in
   * sync), not from its video: the stale rule compares such a stream with
   * video ones by another bound (protocol/freshness.ts, leadBoundMs).
   */
  displays(replicaId: string): boolean {
    const c = this.#current;
    return !!c && !c.closed && c.sink.synced && c.target.replicaId === replicaId;
  }

  /** The app size the canvas shows, when it is the display. */
  appSize(replicaId: string | null): AppSize | null {
    const c = this.#current;
    return c?.shown && c.target.replicaId === replicaId ? c.sink.appSize() : null;
  }

  picture(replicaId: string | null): SinkPicture | null {
    const c = this.#current;
    return c?.shown && c.target.replicaId === replicaId ? c.sink.picture() : null;
  }

  /** Called on every score tick with the shown stream (null: none); starts, shows and ends channels. */
  follow(target: TileTarget | null): void {
    const c = this.#current;
    if (
      c &&
      (c.closed || !target || target.replicaId !== c.target.replicaId || target.consumer !== c.target.consumer)
    ) {
      this.#end(c, 'no longer shown');
      if (target?.replicaId !== c.target.replicaId) this.#failed.delete(c.target.replicaId);
    }
    this.#dropCovered(target);
    if (!target) return;
    if (!this.#current && target.presented && !this.#failed.has(target.replicaId) && target.link.transport)
      this.#open(target);
    const cur = this.#current;
    if (cur && !cur.shown && cur.sink.synced) this.#show(cur);
  }

  dispose(): void {
    if (this.#current) this.#end(this.#current, 'disposed');
    for (const c of this.#leaving) c.sink.dispose();
    this.#leaving.clear();
  }

  #open(target: TileTarget): void {
    const sink = new TileSink(target.sink.timeline, (err) => {
      this.#refusals++;
      this.#fail(channel, `${err.name}: ${err.message}`);
    });
    const channel: Channel = { target, sink, dataConsumer: null, shown: false, closed: false };
    this.#current = channel;
    this.#stage.appendChild(sink.element);
    void this.#consume(channel).catch((err: unknown) => this.#fail(channel, `no display channel: ${String(err)}`));
  }

  async #consume(c: Channel): Promise<void> {
    const { link, replicaId } = c.target;
    const transport = link.transport;
    if (!transport) throw new Error('no transport');
    const params = await link.client.request({ type: 'tiles.consume', transportId: transport.id, replicaId });
    // Ended while the server made it: close it there too, or it counts against this viewer's channel limit.
    if (c.closed || link.transport !== transport) return this.#closeAtServer(c, params.id);
    const dc = await transport.consumeData({
      id: params.id,
      dataProducerId: params.dataProducerId,
      sctpStreamParameters: params.sctpStreamParameters as ms.SctpStreamParameters,
      label: params.label,
    });
    if (c.closed) {
      dc.close();
      return this.#closeAtServer(c, dc.id);
    }
    c.dataConsumer = dc;
    dc.binaryType = 'arraybuffer';
    dc.on('message', (data: ArrayBuffer | Blob | string) => c.sink.receive(data));
    dc.on('close', () => this.#fail(c, 'display channel closed'));
    dc.on('transportclose', () => this.#fail(c, 'transport closed'));
    const start = (): void => {
      if (c.closed) return;
      // Open in the page: what the SFU sends now arrives. The node sends a whole frame on this.
      void link.client
        .request({ type: 'tiles.start', dataConsumerId: dc.id })
        .catch((err: unknown) => this.#fail(c, `tiles.start: ${String(err)}`));
    };
    if (dc.readyState === 'open') start();
    else dc.on('open', start);
    log('channel', replicaId, dc.id);
  }

  #closeAtServer(c: Channel, dataConsumerId: string): void {
    void c.target.link.client.request({ type: 'tiles.close', dataConsumerId }).catch(() => undefined);
  }

  /** The canvas becomes the display: on top, and the video paused at the SFU with its sink detached. */
  #show(c: Channel): void {
    c.shown = true;
    c.sink.element.classList.replace('standby', 'live');
    const { link, consumer, sink } = c.target;
    sink.detach();
    void link.client
      .request({ type: 'consumer.pause', consumerId: consumer.id })
      .catch((err: unknown) => log('video pause failed', err));
    log('tiles shown', c.target.replicaId);
  }

  #fail(c: Channel, reason: string): void {
    if (c.closed) return;
    this.#failures++;
    this.#lastFailure = reason;
    this.#failed.add(c.target.replicaId);
    log('channel failed', c.target.replicaId, reason);
    this.#end(c, reason);
  }

  /**
   * Closes the channel; if its canvas was the display, the video is resumed (a key frame asked for, its sink
   * attached) and the canvas stays, lowered, until a video shows a frame (dropCovered).
   */
  #end(c: Channel, why: string): void {
    if (c.closed) return;
    c.closed = true;
    if (this.#current === c) this.#current = null;
    const dc = c.dataConsumer;
    if (dc && !dc.closed) {
      dc.close();
      this.#closeAtServer(c, dc.id);
    }
    if (!c.shown) {
      c.sink.dispose();
      return;
    }
    const { link, consumer, sink } = c.target;
    if (!consumer.closed) {
      sink.attach(consumer.track);
      void link.client
        .request({ type: 'consumer.resume', consumerId: consumer.id, keyFrame: true })
        .catch((err: unknown) => log('video resume failed', err));
    }
    c.sink.element.classList.replace('live', 'standby');
    this.#leaving.add(c);
    log('tiles ended', c.target.replicaId, why);
  }

  /** Canvases of ended channels go once the shown stream's video has presented since (or nothing is shown). */
  #dropCovered(target: TileTarget | null): void {
    if (this.#leaving.size === 0) return;
    const video = target?.sink.element;
    const covered =
      !target ||
      (target.presented && video instanceof HTMLVideoElement && video.readyState >= 2 && video.videoWidth > 0);
    if (!covered) return;
    for (const c of this.#leaving) c.sink.dispose();
    this.#leaving.clear();
  }
}
