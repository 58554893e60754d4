// Where one consumed stream is displayed and its frame stamps are read: a
// playing <video> (video-sink.ts, the default), or a <canvas> drawn only when
// a frame arrives (canvas-sink.ts, through MediaStreamTrackProcessor; opt-in). The StreamManager stacks the elements and says which are shown.
import type { AppSize } from './coords.js';
import type { FrameTimeline } from './frame-timeline.js';

export type DisplayKind = 'canvas' | 'video';

/** A picture to copy from: `width` × `height` source pixels hold the app surface (the strip excluded). */
export interface SinkPicture {
  source: CanvasImageSource;
  width: number;
  height: number;
}

export interface StreamSink {
  readonly kind: DisplayKind;
  /** The element in the stage (the manager toggles its `live` / `standby` classes). */
  readonly element: HTMLElement;
  readonly timeline: FrameTimeline;
  /** Minimum ms between stamp reads (0 = every frame; standbys sample less). */
  sampleIntervalMs: number;
  /** The app size the latest decoded frame carries (stamp strip excluded); null before one. */
  frameAppSize(): AppSize | null;
  /** Starts taking frames of `track` (idempotent). */
  attach(track: MediaStreamTrack): void;
  /** Stops taking frames: a paused standby holds no sink (nothing to decode or display). */
  detach(): void;
  /**
   * Whether frames are drawn: the live stream, and the old one until the new
   * one has presented (a <video> always draws; the stacking order hides it).
   */
  setShown(shown: boolean): void;
  /** Since the last setShown(true), a frame was displayed. */
  readonly presented: boolean;
  /** The session's size changed (used until a frame says otherwise). */
  sessionSizeChanged(): void;
  /** What is displayed now, for copies (frame-grab.ts); null before a frame. */
  picture(): SinkPicture | null;
  /** Detaches and takes the element out of the page. */
  dispose(): void;
}

/** MediaStreamTrackProcessor (not in TypeScript's DOM types): a track's decoded frames as a stream. */
export type TrackProcessorClass = new (init: { track: MediaStreamTrack; maxBufferSize?: number }) => {
  readonly readable: ReadableStream<VideoFrame>;
};

/** Chromium exposes MediaStreamTrackProcessor on Window; null where it (or WebCodecs) is missing. */
export function trackProcessor(): TrackProcessorClass | null {
  const ctor = (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor;
  return typeof ctor === 'function' && typeof VideoFrame === 'function' ? (ctor as TrackProcessorClass) : null;
}

/**
 * The <video> unless the canvas is asked for and the browser can hand over decoded frames (Chromium).
 * The <video> is the default: measured side by side in headless Chromium (software compositing), the
 * canvas path cost the tab as much CPU or more while typing (each frame's YUV→RGB draw runs on the
 * page's main thread), so it stays opt-in (`?display=canvas`) until it measures better.
 */
export function displayKind(wanted: DisplayKind): DisplayKind {
  return wanted === 'canvas' && trackProcessor() ? 'canvas' : 'video';
}
