// Picks which replica stream to show, with hysteresis. A hard failure switches
// at once; otherwise a challenger must beat the live stream by a margin for a
// hold time, and repeated soft switches back off exponentially so two similar
// streams never flap. Pure: time is passed in.

export interface Candidate {
  id: string;
  score: number;
  hardFailure: boolean;
}

export interface SelectorOptions {
  /** Points a challenger must lead by. */
  margin: number;
  /** How long it must lead before a soft switch. */
  holdMs: number;
  /** No soft switch sooner than this after any switch. */
  minDwellMs: number;
  /** Soft switches within this window make the next one wait longer. */
  backoffWindowMs: number;
  /** Upper bound of the backed-off hold time. */
  maxHoldMs: number;
}

export const DEFAULT_SELECTOR_OPTIONS: SelectorOptions = Object.freeze({
  margin: 15,
  holdMs: 1500,
  minDwellMs: 3000,
  backoffWindowMs: 60_000,
  maxHoldMs: 30_000,
});

export type SwitchReason = 'initial' | 'hard-failure' | 'gone' | 'better';

export interface Selection {
  liveId: string | null;
  /** Set when this update changed the live stream. */
  switched: { from: string | null; to: string; reason: SwitchReason; detail: string } | null;
}

export class StreamSelector {
  private liveId: string | null = null;
  private lastSwitchAt = Number.NEGATIVE_INFINITY;
  private challenger: { id: string; since: number } | null = null;
  private softSwitchTimes: number[] = [];
  private readonly opts: SelectorOptions;

  constructor(opts: Partial<SelectorOptions> = {}) {
    this.opts = { ...DEFAULT_SELECTOR_OPTIONS, ...opts };
  }

  get current(): string | null {
    return this.liveId;
  }

  /** Forces the live stream (e.g. after a reconnect, to keep showing the same replica). */
  prefer(id: string | null): void {
    this.liveId = id;
    this.challenger = null;
  }

  /** The hold a challenger needs now, grown by recent soft switches. */
  currentHoldMs(now: number): number {
    this.softSwitchTimes = this.softSwitchTimes.filter((at) => now - at < this.opts.backoffWindowMs);
    return Math.min(this.opts.maxHoldMs, this.opts.holdMs * 2 ** this.softSwitchTimes.length);
  }

  update(now: number, candidates: readonly Candidate[]): Selection {
    const current = this.liveId === null ? undefined : candidates.find((c) => c.id === this.liveId);
    const others = candidates.filter((c) => c.id !== this.liveId && !c.hardFailure);
    const best = pickBest(others);

    if (!current || current.hardFailure) {
      this.challenger = null;
      if (!best) {
        // Nothing better to go to: keep a failed-but-present stream (it may
        // recover), drop a vanished one.
        if (!current) this.liveId = null;
        return { liveId: this.liveId, switched: null };
      }
      const reason: SwitchReason = this.liveId === null ? 'initial' : current ? 'hard-failure' : 'gone';
      return this.switchTo(
        now,
        best.id,
        reason,
        reason === 'initial' ? `score ${best.score}` : `switched to score ${best.score}`,
        false,
      );
    }

    if (!best || best.score < current.score + this.opts.margin) {
      this.challenger = null;
      return { liveId: this.liveId, switched: null };
    }
    if (!this.challenger || this.challenger.id !== best.id) this.challenger = { id: best.id, since: now };
    const held = now - this.challenger.since;
    if (held >= this.currentHoldMs(now) && now - this.lastSwitchAt >= this.opts.minDwellMs) {
      return this.switchTo(now, best.id, 'better', `score ${best.score} vs ${current.score}`, true);
    }
    return { liveId: this.liveId, switched: null };
  }

  private switchTo(now: number, id: string, reason: SwitchReason, detail: string, soft: boolean): Selection {
    const from = this.liveId;
    this.liveId = id;
    this.lastSwitchAt = now;
    this.challenger = null;
    if (soft) this.softSwitchTimes.push(now);
    return { liveId: id, switched: { from, to: id, reason, detail } };
  }
}

/** Highest score; ties go to the lowest id so the choice is stable. */
function pickBest(cs: readonly Candidate[]): Candidate | undefined {
  let best: Candidate | undefined;
  for (const c of cs) {
    if (!best || c.score > best.score || (c.score === best.score && c.id < best.id)) best = c;
  }
  return best;
}
