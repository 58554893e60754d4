// Where one consumed stream is displayed and its frame stamps are read: a
// playing <video> (video-sink.ts). The StreamManager stacks the elements and
// says which are shown. (A canvas drawn per frame from MediaStreamTrackProcessor
// was tried and removed: in headless Chromium it cost the tab as much CPU or
// more and ~50 % more memory; docs/viewer-cost.md.)
import type { AppSize } from './coords.js';
import type { FrameTimeline } from './frame-timeline.js';

/** A picture to copy from: `width` × `height` source pixels hold the app surface (the strip excluded). */
export interface SinkPicture {
  source: CanvasImageSource;
  width: number;
  height: number;
}

export interface StreamSink {
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
