// Banners above the stage: transient ones (a failover happened) fade out,
// keyed ones (reconnecting…) stay until replaced or cleared.
import { h } from './dom.js';

export type BannerKind = 'info' | 'warn' | 'error';

export class Banners {
  private readonly keyed = new Map<string, HTMLElement>();

  constructor(private readonly host: HTMLElement) {}

  /** Shows a banner; `ttlMs` hides it again, `key` replaces an earlier one with the same key. */
  show(kind: BannerKind, text: string, opts: { ttlMs?: number; key?: string } = {}): void {
    if (opts.key) this.clear(opts.key);
    const el = h('div', { class: `banner banner-${kind}`, role: kind === 'error' ? 'alert' : 'status' }, text);
    this.host.append(el);
    if (opts.key) this.keyed.set(opts.key, el);
    if (opts.ttlMs !== undefined) {
      setTimeout(() => {
        el.classList.add('banner-out');
        setTimeout(() => {
          el.remove();
          if (opts.key && this.keyed.get(opts.key) === el) this.keyed.delete(opts.key);
        }, 400);
      }, opts.ttlMs);
    }
  }

  clear(key: string): void {
    this.keyed.get(key)?.remove();
    this.keyed.delete(key);
  }
}
