// Live previews in the session list: the server's latest JPEG of each session
// (made by the renderer nodes every couple of seconds), fetched with the
// viewer's token in a header (not in the image URL) and shown from a blob URL.
// One stable <img> per session, so list re-renders never flicker. Asked of
// any live server of the cluster (cluster-rest.ts).
import type { ClusterRest } from './cluster-rest.js';
import { h } from './dom.js';

const REFRESH_MS = 3000;

export class ThumbnailLoader {
  private readonly images = new Map<string, { img: HTMLImageElement; url: string | null; etag: string | null }>();
  private timer: ReturnType<typeof setInterval> | null = null;
  private ids: string[] = [];

  constructor(private readonly rest: ClusterRest) {}

  /** The (stable) image element of a session; empty until its first thumbnail loads. */
  imageFor(sessionId: string): HTMLImageElement {
    let e = this.images.get(sessionId);
    if (!e) {
      const img = h('img', {
        class: 'thumb',
        alt: `Preview of ${sessionId}`,
        'data-testid': 'thumbnail',
        'data-session': sessionId,
        width: 160,
      });
      img.hidden = true;
      e = { img, url: null, etag: null };
      this.images.set(sessionId, e);
    }
    return e.img;
  }

  /** Which sessions are listed: loads them now and every few seconds. */
  show(sessionIds: string[]): void {
    this.ids = sessionIds;
    for (const [id, e] of this.images) {
      if (!sessionIds.includes(id)) {
        if (e.url) URL.revokeObjectURL(e.url);
        this.images.delete(id);
      }
    }
    void this.loadAll();
    this.timer ??= setInterval(() => void this.loadAll(), REFRESH_MS);
  }

  dispose(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    for (const e of this.images.values()) if (e.url) URL.revokeObjectURL(e.url);
    this.images.clear();
  }

  private async loadAll(): Promise<void> {
    if (document.visibilityState === 'hidden') return;
    await Promise.all(this.ids.map((id) => this.load(id)));
  }

  private async load(sessionId: string): Promise<void> {
    const e = this.images.get(sessionId) ?? (this.imageFor(sessionId), this.images.get(sessionId));
    if (!e) return;
    const headers: Record<string, string> = {};
    if (e.etag) headers['If-None-Match'] = e.etag;
    try {
      const res = await this.rest.request({
        path: `/api/sessions/${encodeURIComponent(sessionId)}/thumbnail.jpg`,
        headers,
        idempotent: true,
      });
      if (res.status === 304 || !res.ok) return; // unchanged, or no thumbnail yet
      const blob = await res.blob();
      if (this.images.get(sessionId) !== e) return; // the session left the list meanwhile
      const url = URL.createObjectURL(blob);
      const old = e.url;
      e.url = url;
      e.etag = res.headers.get('ETag');
      e.img.onload = () => {
        e.img.hidden = false;
        if (old) URL.revokeObjectURL(old);
      };
      e.img.src = url;
    } catch {
      // A preview is best effort: the next round tries again.
    }
  }
}
