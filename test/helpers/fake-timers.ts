// A fake clock and timer queue for the viewer's pure parts: `schedule` has the
// shape their deps take (returns a cancel function); `advance` moves the clock
// and runs the timers that came due (in the order they were set).
export interface FakeTimers {
  readonly now: number;
  schedule: (fn: () => void, ms: number) => () => void;
  advance: (ms: number) => void;
}

export function fakeTimers(): FakeTimers {
  let now = 0;
  const timers: Array<{ at: number; fn: () => void; cancelled: boolean }> = [];
  return {
    get now() {
      return now;
    },
    schedule: (fn, ms) => {
      const t = { at: now + ms, fn, cancelled: false };
      timers.push(t);
      return () => (t.cancelled = true);
    },
    advance: (ms) => {
      now += ms;
      for (const t of timers.splice(0)) {
        if (t.cancelled) continue;
        if (t.at <= now) t.fn();
        else timers.push(t);
      }
    },
  };
}
