// Per-stream frame history: presentation times (fps, staleness, freezes) and
// when each stamped seq was first shown (input-to-photon latency). Pure.

/** A gap this long between frames counts as a freeze (if also 3× the typical interval). */
const FREEZE_MIN_GAP_MS = 500;
const FREEZE_WINDOW_MS = 10_000;
const MAX_SEQ_MARKS = 1024;

/**
 * Where a frame was on its way to the screen (requestVideoFrameCallback
 * metadata, page clock): its last packet arrived, it was handed to the
 * compositor, and when the compositor expects it on the display.
 */
export interface FramePresentation {
  receivedAt?: number;
  presentedAt?: number;
  expectedDisplayAt?: number;
  /** The rendering step whose frame callbacks reported it began (the rVFC callback's `now`). */
  frameAt?: number;
}

export interface ShownMark extends FramePresentation {
  seq: number;
  /** The frame callback ran (what input-to-photon measures to). */
  at: number;
}

export class FrameTimeline {
  framesSeen = 0;
  lastFrameAt: number | null = null;
  lastSeq: number | null = null;
  /** Frame times over the last ~2 s, oldest first. */
  private times: number[] = [];
  private freezes: number[] = [];
  /** (seq, first time a frame with a seq ≥ it was shown), seq increasing. */
  private marks: ShownMark[] = [];
  private avgIntervalMs = 33;
  /** Called after every frame and seq recorded (the stream manager judges the streams then, not on a poll). */
  onChange: (() => void) | null = null;

  onFrame(at: number, count = 1): void {
    if (this.lastFrameAt !== null) {
      const gap = at - this.lastFrameAt;
      if (gap > Math.max(FREEZE_MIN_GAP_MS, 3 * this.avgIntervalMs)) this.freezes.push(at);
      else if (gap > 0) this.avgIntervalMs = 0.9 * this.avgIntervalMs + 0.1 * (gap / count);
    }
    this.framesSeen += count;
    this.lastFrameAt = at;
    for (let i = 0; i < count; i++) this.times.push(at);
    while (this.times.length > 0 && (this.times[0] ?? at) < at - 2000) this.times.shift();
    this.onChange?.();
  }

  /** Records the seq decoded from a frame shown at `at`. */
  onSeq(seq: number, at: number, presentation: FramePresentation = {}): void {
    const changed = seq !== this.lastSeq;
    this.lastSeq = seq;
    const top = this.marks.at(-1);
    if (!top || seq > top.seq) {
      this.marks.push({ ...presentation, seq, at });
      if (this.marks.length > MAX_SEQ_MARKS) this.marks.splice(0, this.marks.length - MAX_SEQ_MARKS);
    }
    if (changed) this.onChange?.();
  }

  /**
   * The stream was paused and resumed (warm standby): the pause is not a
   * freeze and old frames say nothing about the new rate.
   */
  markResumed(): void {
    this.lastFrameAt = null;
    this.times = [];
  }

  fps(now: number): number {
    let n = 0;
    for (let i = this.times.length - 1; i >= 0; i--) {
      if ((this.times[i] ?? 0) <= now - 1000) break;
      n++;
    }
    return n;
  }

  recentFreezes(now: number): number {
    this.freezes = this.freezes.filter((t) => t > now - FREEZE_WINDOW_MS);
    return this.freezes.length;
  }

  /** When the first frame reflecting `seq` (stamp ≥ seq) was shown, null if not yet. */
  firstShownAt(seq: number): number | null {
    return this.firstShown(seq)?.at ?? null;
  }

  /** The first frame reflecting `seq` (stamp ≥ seq), with its presentation times; null if not yet. */
  firstShown(seq: number): ShownMark | null {
    // Binary search: marks are increasing in seq.
    let lo = 0;
    let hi = this.marks.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.marks[mid]?.seq ?? 0) < seq) lo = mid + 1;
      else hi = mid;
    }
    return this.marks[lo] ?? null;
  }
}
