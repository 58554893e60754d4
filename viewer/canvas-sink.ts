// The display of one stream without a playing <video>: its decoded frames
// come out of a MediaStreamTrackProcessor, and each is drawn into a 2d canvas
// (when this stream is shown) the moment it arrives, its stamp read from the
// very same VideoFrame, then closed. A playing <video> keeps the media
// player's and the compositor's frame machinery busy whether or not a frame
// changed; here the page does work only per received frame.
import { STAMP_HEIGHT } from '../protocol/frame-stamp.js';
import type { AppSize } from './coords.js';
import { copyStamp, drawStamp, stampRect } from './frame-stamp-copy.js';
import { FrameTimeline, type FramePresentation } from './frame-timeline.js';
import { trackProcessor, type SinkPicture, type StreamSink } from './stream-sink.js';
import { debugLog } from './debug-log.js';

const log = debugLog('canvas-sink');

/** Frames whose stamp copy is queued at most; beyond, a frame's stamp is skipped (a later one carries a seq ≥). */
const MAX_QUEUED_COPIES = 3;

/** Chromium's per-frame metadata of WebRTC frames (absent in older versions). */
interface FrameMetadata {
  receiveTime?: unknown;
}

export class CanvasSink implements StreamSink {
  readonly kind = 'canvas';
  readonly element: HTMLCanvasElement;
  readonly timeline = new FrameTimeline();
  sampleIntervalMs = 0;
  readonly #sessionSize: () => AppSize;
  readonly #onResize: () => void;
  #ctx: CanvasRenderingContext2D | null = null;
  /** The clone of the consumer's track the processor reads (stopped on detach; the consumer's own stays). */
  #track: MediaStreamTrack | null = null;
  #reader: ReadableStreamDefaultReader<VideoFrame> | null = null;
  #frameApp: AppSize | null = null;
  #shown = false;
  #presented = false;
  #drawn = false;
  #lastSampleAt = Number.NEGATIVE_INFINITY;
  #queuedCopies = 0;
  /** Stamp copies run one after another, so seqs arrive in frame order. */
  #copyChain: Promise<void> = Promise.resolve();

  /** `onResize`: this stream's frames changed size (a resize input applied). */
  constructor(sessionSize: () => AppSize, onResize: () => void) {
    this.#sessionSize = sessionSize;
    this.#onResize = onResize;
    this.element = document.createElement('canvas');
    // Hidden until it holds a picture of its own: a just-resumed live stream lets the old one show through.
    this.element.className = 'stream standby blank';
  }

  get presented(): boolean {
    return this.#presented;
  }

  frameAppSize(): AppSize | null {
    return this.#frameApp;
  }

  attach(track: MediaStreamTrack): void {
    const Processor = trackProcessor();
    if (this.#reader || !Processor) return;
    // A clone: cancelling a processor's stream may end its track, and the consumer's must live on.
    const own = track.clone();
    this.#track = own;
    const reader = new Processor({ track: own }).readable.getReader();
    this.#reader = reader;
    this.element.dataset.trackId = track.id;
    void this.#pump(reader);
  }

  detach(): void {
    const reader = this.#reader;
    if (!reader) return;
    this.#reader = null;
    reader.cancel().catch(() => undefined);
    this.#track?.stop();
    this.#track = null;
  }

  setShown(shown: boolean): void {
    if (shown === this.#shown) return;
    this.#shown = shown;
    this.#presented = false;
    // Not shown: out of the compositor's work (and no stale picture if it is shown again later).
    if (!shown) this.element.classList.add('blank');
  }

  sessionSizeChanged(): void {
    // Sized from its frames only: the canvas holds what was drawn, at the frame's size.
  }

  picture(): SinkPicture | null {
    return this.#drawn ? { source: this.element, width: this.element.width, height: this.element.height } : null;
  }

  dispose(): void {
    this.detach();
    this.element.remove();
  }

  async #pump(reader: ReadableStreamDefaultReader<VideoFrame>): Promise<void> {
    for (;;) {
      let next: ReadableStreamReadResult<VideoFrame>;
      try {
        next = await reader.read();
      } catch (err) {
        if (this.#reader === reader) log('frames stopped', err);
        return;
      }
      if (next.done) return;
      if (this.#reader !== reader) {
        next.value.close();
        return;
      }
      this.#onFrame(next.value);
    }
  }

  /** Takes ownership of `frame` (closed here, or once its stamp is copied). */
  #onFrame(frame: VideoFrame): void {
    const arrivedAt = performance.now();
    const app = this.#noteSize(frame);
    if (this.#shown) this.#draw(frame);
    const at = performance.now();
    this.timeline.onFrame(at, 1);
    if (at - this.#lastSampleAt < this.sampleIntervalMs || this.#queuedCopies >= MAX_QUEUED_COPIES) {
      frame.close();
      return;
    }
    this.#lastSampleAt = at;
    const receiveTime = (frame as { metadata?: () => FrameMetadata }).metadata?.().receiveTime;
    // The frame was drawn at `at`; it left the decoder at `presentedAt`.
    const presentation: FramePresentation = {
      presentedAt: arrivedAt,
      ...(typeof receiveTime === 'number' ? { receivedAt: receiveTime } : {}),
    };
    const rect = stampRect(frame, app);
    if (!rect) {
      const seq = drawStamp(frame, frame.displayWidth, frame.displayHeight, app);
      frame.close();
      if (seq !== null) this.timeline.onSeq(seq, at, presentation);
      return;
    }
    this.#queuedCopies++;
    this.#copyChain = this.#copyChain.then(async () => {
      try {
        const seq = await copyStamp(frame, rect, app);
        if (seq !== null && this.#reader) this.timeline.onSeq(seq, at, presentation);
      } catch {
        // The frame went away (track ended): this stamp is lost, the next frame has one.
      } finally {
        frame.close();
        this.#queuedCopies--;
      }
    });
  }

  /** The app size this frame carries (1:1 with the strip below it); the canvas follows it. */
  #noteSize(frame: VideoFrame): AppSize {
    const w = frame.displayWidth;
    const h = frame.displayHeight - STAMP_HEIGHT;
    if (w <= 0 || h <= 0) return this.#frameApp ?? this.#sessionSize();
    const prev = this.#frameApp;
    if (prev && prev.width === w && prev.height === h) return prev;
    this.#frameApp = { width: w, height: h };
    this.element.width = w;
    this.element.height = h;
    this.#ctx = null;
    this.#drawn = false;
    this.#onResize();
    return this.#frameApp;
  }

  #draw(frame: VideoFrame): void {
    this.#ctx ??= this.element.getContext('2d', { alpha: false, desynchronized: true });
    if (!this.#ctx) return;
    const { width, height } = this.element;
    // The app rows only: the strip is not part of the picture.
    this.#ctx.drawImage(frame, 0, 0, frame.displayWidth, frame.displayHeight - STAMP_HEIGHT, 0, 0, width, height);
    this.#drawn = true;
    if (!this.#presented) {
      this.#presented = true;
      this.element.classList.remove('blank');
    }
  }
}
