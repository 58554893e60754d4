// The stats overlay (F2 or Ctrl+Shift+S): per stream fps, bitrate, RTT, loss
// and freshness (the head seq the viewer knows vs the seq the picture shows),
// plus input-to-photon latency. Drawn over the stage, never intercepting input.
import type { StreamView } from './stream-manager.js';
import { h } from './dom.js';

export interface StatsSources {
  streams: () => StreamView[];
  headSeq: () => number;
  lastLatencyMs: () => number | null;
  /** Recent input-to-photon samples (ms), for a median. */
  recentLatenciesMs: () => number[];
  pendingInputs: () => number;
  appSize: () => { width: number; height: number };
  connection: () => string;
}

const REFRESH_MS = 500;

export class StatsOverlay {
  readonly element: HTMLElement;
  private timer: ReturnType<typeof setInterval> | null = null;

  constructor(private readonly src: StatsSources) {
    this.element = h('div', { class: 'stats-overlay', 'data-testid': 'stats-overlay', 'aria-live': 'off' });
    this.element.hidden = true;
  }

  get visible(): boolean {
    return !this.element.hidden;
  }

  toggle(show = !this.visible): void {
    this.element.hidden = !show;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (show) {
      this.render();
      this.timer = setInterval(() => this.render(), REFRESH_MS);
    }
  }

  dispose(): void {
    this.toggle(false);
  }

  private render(): void {
    const head = this.src.headSeq();
    const size = this.src.appSize();
    const last = this.src.lastLatencyMs();
    const med = median(this.src.recentLatenciesMs());
    const rows = this.src
      .streams()
      .map((v) =>
        h(
          'tr',
          { class: v.live ? 'stats-live' : '' },
          h('td', {}, `${v.live ? '▶ ' : ''}${v.hostId}`),
          h('td', {}, v.state),
          h('td', {}, String(v.fps)),
          h('td', {}, v.bitrateKbps === null ? '—' : `${v.bitrateKbps}`),
          h('td', {}, v.rttMs === null ? '—' : `${Math.round(v.rttMs)}`),
          h('td', {}, v.packetLoss === null ? '—' : `${(v.packetLoss * 100).toFixed(1)}%`),
          h('td', {}, v.displayedSeq === null ? '—' : `${v.displayedSeq}`),
          h('td', {}, v.displayedSeq === null ? '—' : `${Math.max(0, head - v.displayedSeq)}`),
          h('td', {}, v.frameWidth === null ? '—' : `${v.frameWidth}×${v.frameHeight ?? 0}`),
          h('td', {}, String(v.score)),
        ),
      );
    this.element.replaceChildren(
      h(
        'div',
        { class: 'stats-head' },
        h('span', {}, `app ${size.width}×${size.height}`),
        h('span', {}, `head #${head}`),
        h('span', {}, `input→photon ${last === null ? '—' : `${last} ms`}${med === null ? '' : ` (median ${med})`}`),
        h('span', {}, `pending ${this.src.pendingInputs()}`),
        h('span', {}, this.src.connection()),
      ),
      h(
        'table',
        {},
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['host', 'state', 'fps', 'kbit/s', 'RTT ms', 'loss', 'shown #', 'behind', 'frame', 'score'].map((t) =>
              h('th', {}, t),
            ),
          ),
        ),
        h('tbody', {}, ...rows),
      ),
      h('div', { class: 'stats-hint' }, 'F2 / Ctrl+Shift+S to close'),
    );
  }
}

function median(xs: number[]): number | null {
  if (xs.length === 0) return null;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)] ?? null;
}
