// Reads the frame stamp (the seq each frame reflects) from a playing <video>
// and feeds a FrameTimeline. Two sources (docs/viewer-cpu.md):
// - `processor` (the default where the browser has MediaStreamTrackProcessor,
//   Chromium): the frames of the video's track, read as they are decoded. No
//   rendering step per frame (a frame callback and its re-arm each make one):
//   ~1.5-3 points of a core off the tab while typing. Its times are when a
//   frame was decoded, a few ms before it is on screen, and samples carry no
//   presentation times.
// - `frame-callback` (`?stamps=frame`, and every browser without a processor):
//   requestVideoFrameCallback, run when a frame is presented, with its
//   presentation metadata; the latency bench opens its viewers so, to keep
//   the display-time meaning of its figures and of its stage split.
// With frame callbacks a watchdog on the decoded-frame counter covers browsers
// without them and videos the compositor skips (hidden hot standbys). A
// processor sees every decoded frame, shown or not: no watchdog beside it (its
// timer was 4 main-thread wakeups a second per stream); should its frame
// stream end while the reader runs, frame callbacks and the watchdog take over.
import { FrameTimeline, type FramePresentation } from './frame-timeline.js';
import type { AppSize } from './coords.js';
import { copyStamp, drawStamp, stampRect } from './frame-stamp-copy.js';

const WATCHDOG_MS = 250;
/** Frames whose stamp copy is queued at most; beyond, a frame's stamp is skipped (a later one carries a seq ≥). */
const MAX_QUEUED_COPIES = 3;
/** rVFC silent this long while frames decode: count frames from the decoder instead. */
const RVFC_SILENT_MS = 600;

/** The requestVideoFrameCallback metadata fields read here (all optional in older browsers). */
interface FrameCallbackMetadata {
  receiveTime?: number;
  presentationTime?: number;
  expectedDisplayTime?: number;
}

/** Where frames are noticed: a track processor (default where there is one), or the video's frame callbacks (`?stamps=frame`). */
export type StampSource = 'frame-callback' | 'processor';

/** Chromium's MediaStreamTrackProcessor, as used here (not in the DOM typings). */
type TrackProcessorCtor = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => {
  readable: ReadableStream<VideoFrame>;
};

/** VideoFrame.metadata() where the browser has it (WebRTC frames carry receiveTime). */
type FrameWithMetadata = VideoFrame & { metadata?: () => { receiveTime?: unknown } };

function trackProcessor(): TrackProcessorCtor | null {
  const ctor = (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor;
  return typeof ctor === 'function' ? (ctor as TrackProcessorCtor) : null;
}

type FrameCallbackVideo = HTMLVideoElement & {
  requestVideoFrameCallback?: (cb: (now: number, metadata: FrameCallbackMetadata) => void) => number;
  cancelVideoFrameCallback?: (handle: number) => void;
};

export class FrameStampReader {
  readonly timeline = new FrameTimeline();
  /** Minimum ms between stamp decodes (0 = every frame; standbys sample less). */
  sampleIntervalMs = 0;
  private readonly video: FrameCallbackVideo;
  private rvfcHandle: number | null = null;
  private rafHandle: number | null = null;
  private watchdog: ReturnType<typeof setInterval> | null = null;
  private lastRvfcAt = Number.NEGATIVE_INFINITY;
  private lastDecodedCount = 0;
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  private lastMediaTime = -1;
  private running = false;
  /** Stamp copies from WebCodecs frames run one after another, so seqs arrive in frame order. */
  private copyChain: Promise<void> = Promise.resolve();
  private queuedCopies = 0;
  /** No WebCodecs, or frames in a format without a luma plane: read through a canvas. */
  private frameCopyUnsupported = typeof VideoFrame !== 'function';

  /** The processor's frame stream while reading from one (`processor` source). */
  private frames: ReadableStreamDefaultReader<VideoFrame> | null = null;

  constructor(
    video: HTMLVideoElement,
    private readonly appSize: () => AppSize,
    private readonly source: StampSource = 'processor',
  ) {
    this.video = video;
  }

  start(): void {
    if (this.running) return;
    this.running = true;
    if (this.source !== 'processor' || !this.startProcessor()) this.startFrameCallbacks();
  }

  /** Frame callbacks (animation frames without them), and the decoded-frame watchdog. */
  private startFrameCallbacks(): void {
    this.lastDecodedCount = this.decodedCount() ?? 0;
    this.lastRvfcAt = performance.now();
    if (typeof this.video.requestVideoFrameCallback === 'function') this.armRvfc();
    else this.armRaf();
    this.watchdog ??= setInterval(() => this.checkDecoder(), WATCHDOG_MS);
  }

  stop(): void {
    this.running = false;
    const frames = this.frames;
    this.frames = null;
    void frames?.cancel().catch(() => undefined);
    if (this.rvfcHandle !== null) this.video.cancelVideoFrameCallback?.(this.rvfcHandle);
    if (this.rafHandle !== null) cancelAnimationFrame(this.rafHandle);
    if (this.watchdog !== null) clearInterval(this.watchdog);
    this.rvfcHandle = this.rafHandle = this.watchdog = null;
  }

  private armRvfc(): void {
    this.rvfcHandle =
      this.video.requestVideoFrameCallback?.((now, metadata) => {
        if (!this.running) return;
        const at = performance.now();
        this.lastRvfcAt = at;
        this.lastDecodedCount = this.decodedCount() ?? this.lastDecodedCount;
        this.onFrame(at, 1, {
          receivedAt: metadata.receiveTime,
          presentedAt: metadata.presentationTime,
          expectedDisplayAt: metadata.expectedDisplayTime,
          frameAt: now,
        });
        this.armRvfc();
      }) ?? null;
  }

  /** Frames from a track processor on the video's track, as they are decoded; false when there is none. */
  private startProcessor(): boolean {
    const Processor = trackProcessor();
    const src = this.video.srcObject;
    const track = src instanceof MediaStream ? src.getVideoTracks()[0] : undefined;
    if (!Processor || !track) return false;
    let frames: ReadableStreamDefaultReader<VideoFrame>;
    try {
      frames = new Processor({ track, maxBufferSize: MAX_QUEUED_COPIES }).readable.getReader();
    } catch {
      return false;
    }
    this.frames = frames;
    void this.readFrames(frames);
    return true;
  }

  /**
   * One frame at a time: its stamp copied (two luma rows) and the frame closed before the next is read. The
   * stream ending by itself (not by stop()) hands over to frame callbacks.
   */
  private async readFrames(frames: ReadableStreamDefaultReader<VideoFrame>): Promise<void> {
    for (;;) {
      let frame: VideoFrame | undefined;
      try {
        const next = await frames.read();
        if (!next.done) frame = next.value;
      } catch {
        // cancelled by stop(), or the track ended
      }
      if (!frame) {
        if (this.running && this.frames === frames) {
          this.frames = null;
          this.startFrameCallbacks();
        }
        return;
      }
      try {
        if (!this.running || this.frames !== frames) return;
        const at = performance.now();
        const received = (frame as FrameWithMetadata).metadata?.().receiveTime;
        await this.onProcessedFrame(frame, at, typeof received === 'number' ? { receivedAt: received } : {});
      } finally {
        frame.close();
      }
    }
  }

  private async onProcessedFrame(frame: VideoFrame, at: number, presentation: FramePresentation): Promise<void> {
    if (!this.sampleDue(at, 1)) return;
    const app = this.appSize();
    if (app.width <= 0 || app.height <= 0) return;
    const rect = this.frameCopyUnsupported ? null : stampRect(frame, app);
    let seq: number | null;
    if (rect) {
      try {
        seq = await copyStamp(frame, rect, app);
      } catch {
        return; // the frame went away: the next one has a stamp
      }
    } else {
      seq = this.readStamp(); // no luma plane to copy from: the picture the video shows
    }
    if (seq !== null && this.running) this.timeline.onSeq(seq, at, presentation);
  }

  /** Without rVFC: poll once per animation frame for a new media time. */
  private armRaf(): void {
    this.rafHandle = requestAnimationFrame(() => {
      if (!this.running) return;
      const t = this.video.currentTime;
      const decoded = this.decodedCount();
      if (decoded !== null ? decoded > this.lastDecodedCount : t !== this.lastMediaTime) {
        const n = decoded !== null ? decoded - this.lastDecodedCount : 1;
        this.lastDecodedCount = decoded ?? this.lastDecodedCount;
        this.lastMediaTime = t;
        this.onFrame(performance.now(), Math.max(1, n));
      }
      this.armRaf();
    });
  }

  private checkDecoder(): void {
    const decoded = this.decodedCount();
    if (decoded === null) return;
    const now = performance.now();
    if (decoded > this.lastDecodedCount && now - this.lastRvfcAt > RVFC_SILENT_MS && this.rafHandle === null) {
      this.onFrame(now, decoded - this.lastDecodedCount);
    }
    this.lastDecodedCount = decoded;
  }

  private decodedCount(): number | null {
    try {
      return typeof this.video.getVideoPlaybackQuality === 'function'
        ? this.video.getVideoPlaybackQuality().totalVideoFrames
        : null;
    } catch {
      return null;
    }
  }

  /** Counts `count` frames at `at`; true when a stamp sample is due (one per sampleIntervalMs), which it then takes. */
  private sampleDue(at: number, count: number): boolean {
    this.timeline.onFrame(at, count);
    if (at - this.lastSampleAt < this.sampleIntervalMs) return false;
    this.lastSampleAt = at;
    return true;
  }

  private onFrame(at: number, count: number, presentation?: FramePresentation): void {
    if (!this.sampleDue(at, count)) return;
    if (this.readStampFromFrame(at, presentation)) return;
    const seq = this.readStamp();
    if (seq !== null) this.timeline.onSeq(seq, at, presentation);
  }

  /**
   * Reads the stamp row straight from the decoded frame's luma plane
   * (WebCodecs VideoFrame.copyTo of two rows): no RGB conversion, no canvas.
   * Drawing the video into a canvas every frame made a new cached image per
   * frame, which filled the tab's discardable memory (~400 MB at 720p).
   * False when this browser or frame format cannot: the caller uses the canvas.
   */
  private readStampFromFrame(at: number, presentation?: FramePresentation): boolean {
    if (this.frameCopyUnsupported) return false;
    const app = this.appSize();
    if (app.width <= 0 || app.height <= 0) return true;
    let frame: VideoFrame;
    try {
      frame = new VideoFrame(this.video);
    } catch {
      return true; // no frame decoded yet
    }
    const rect = stampRect(frame, app);
    if (!rect) {
      frame.close();
      this.frameCopyUnsupported = true;
      return false;
    }
    if (this.queuedCopies >= MAX_QUEUED_COPIES) {
      frame.close();
      return true;
    }
    this.queuedCopies++;
    this.copyChain = this.copyChain.then(async () => {
      try {
        const seq = await copyStamp(frame, rect, app);
        if (seq !== null && this.running) this.timeline.onSeq(seq, at, presentation);
      } catch {
        // The frame went away (track ended): this stamp is lost, the next frame has one.
      } finally {
        frame.close();
        this.queuedCopies--;
      }
    });
    return true;
  }

  /** Decodes the stamp of the frame currently in the video element. */
  readStamp(): number | null {
    return drawStamp(this.video, this.video.videoWidth, this.video.videoHeight, this.appSize());
  }
}
