// The highest input seq the viewer knows exists, and since when it knew each
// one: a stream showing seq S is "behind" for as long as S+1 has been known.
// Fed by input acks (at the input's send time) and session heads. Pure.
//
// An input noted as picture-neutral (this viewer's own key-up: see
// protocol/freshness.ts NEUTRAL_RESTAMP_MS) is expected to get no frame of its
// own, so it does not make a stream behind; the next input that is not neutral does.

const MAX_MARKS = 512;

export class HeadTracker {
  head = 0;
  /** Known seqs with the time they became known, sorted by seq. */
  private marks: Array<{ seq: number; at: number; neutral: boolean }> = [];

  note(seq: number, at: number, neutral = false): void {
    if (!Number.isFinite(seq) || seq <= 0) return;
    if (seq > this.head) this.head = seq;
    let i = this.marks.length;
    while (i > 0 && (this.marks[i - 1]?.seq ?? 0) > seq) i--;
    const prev = this.marks[i - 1];
    if (prev && prev.seq === seq) {
      prev.at = Math.min(prev.at, at);
      // A session head names the seq without saying what it is; this viewer's ack knows it is its key-up.
      prev.neutral ||= neutral;
      return;
    }
    this.marks.splice(i, 0, { seq, at, neutral });
    if (this.marks.length > MAX_MARKS) this.marks.splice(0, this.marks.length - MAX_MARKS);
  }

  /** Earliest time any seq ≥ `seq` that is not picture-neutral was known, null if none is. */
  knownSince(seq: number): number | null {
    let best: number | null = null;
    for (let i = this.marks.length - 1; i >= 0; i--) {
      const m = this.marks[i];
      if (!m || m.seq < seq) break;
      if (m.neutral) continue;
      best = best === null ? m.at : Math.min(best, m.at);
    }
    return best;
  }

  /** How long a stream showing `displayedSeq` has been missing a known input that should change its picture. */
  behindForMs(displayedSeq: number | null, now: number): number {
    const since = this.behindSince(displayedSeq);
    return since === null ? 0 : Math.max(0, now - since);
  }

  /** Since when a stream showing `displayedSeq` has been missing such an input; null: it is not (or shows nothing yet). */
  behindSince(displayedSeq: number | null): number | null {
    if (displayedSeq === null || displayedSeq >= this.head) return null;
    return this.knownSince(displayedSeq + 1);
  }
}
