// The fallback display of one stream: a <video> playing the track, its stamps
// read by a FrameStampReader. Taller than the crop box by the stamp strip,
// which overflows out of sight.
import { STAMP_HEIGHT } from '../protocol/frame-stamp.js';
import type { AppSize } from './coords.js';
import { FrameStampReader, type StampSource } from './frame-stamp-reader.js';
import type { FrameTimeline } from './frame-timeline.js';
import type { SinkPicture, StreamSink } from './stream-sink.js';

export class VideoSink implements StreamSink {
  readonly element: HTMLVideoElement;
  readonly #reader: FrameStampReader;
  readonly #sessionSize: () => AppSize;
  #attached = false;

  /** `onResize`: this stream's frames changed size (a resize input applied); `stamps`: where stamps are read. */
  constructor(sessionSize: () => AppSize, onResize: () => void, stamps: StampSource = 'processor') {
    this.#sessionSize = sessionSize;
    const video = document.createElement('video');
    video.className = 'stream standby';
    video.muted = true;
    video.autoplay = true;
    video.playsInline = true;
    video.disablePictureInPicture = true;
    this.element = video;
    this.#reader = new FrameStampReader(video, () => this.frameAppSize() ?? sessionSize(), stamps);
    this.#size();
    // Each stream is sized from its own frames: replicas apply a resize at the same seq, not the same instant.
    video.addEventListener('resize', () => {
      this.#size();
      onResize();
    });
  }

  get timeline(): FrameTimeline {
    return this.#reader.timeline;
  }

  get sampleIntervalMs(): number {
    return this.#reader.sampleIntervalMs;
  }

  set sampleIntervalMs(ms: number) {
    this.#reader.sampleIntervalMs = ms;
  }

  get presented(): boolean {
    return true; // stacked: the live video covers the rest once it has a frame
  }

  frameAppSize(): AppSize | null {
    return videoAppSize(this.element);
  }

  attach(track: MediaStreamTrack): void {
    if (this.#attached) return;
    this.#attached = true;
    this.element.srcObject = new MediaStream([track]);
    this.element.dataset.trackId = track.id;
    // Autoplay of muted video is allowed; a rejection just means it starts on the next user gesture.
    void this.element.play().catch(() => undefined);
    this.#reader.start();
  }

  detach(): void {
    if (!this.#attached) return;
    this.#attached = false;
    this.#reader.stop();
    this.element.srcObject = null;
  }

  setShown(): void {
    // A <video> shows whatever it plays; the stacking order decides which one is seen.
  }

  sessionSizeChanged(): void {
    this.#size();
  }

  picture(): SinkPicture | null {
    const app = this.frameAppSize();
    if (!app) return null;
    // Source rows scale with the (possibly encoder-scaled) frame height.
    const rows = (this.element.videoHeight * app.height) / (app.height + STAMP_HEIGHT);
    return { source: this.element, width: this.element.videoWidth, height: rows };
  }

  dispose(): void {
    this.detach();
    this.element.remove();
  }

  /** The video is taller than the crop box by the stamp strip, which overflows out of sight. */
  #size(): void {
    const app = this.frameAppSize() ?? this.#sessionSize();
    if (app.height <= 0) return;
    this.element.style.height = `${((app.height + STAMP_HEIGHT) / app.height) * 100}%`;
  }
}

/**
 * The app size a decoded frame carries: renderers send the app surface plus
 * the stamp strip at 1:1 (screencast tracks keep their resolution).
 */
export function videoAppSize(video: HTMLVideoElement): AppSize | null {
  const w = video.videoWidth;
  const h = video.videoHeight - STAMP_HEIGHT;
  return w > 0 && h > 0 ? { width: w, height: h } : null;
}
