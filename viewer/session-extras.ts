// The session view's extras: the toolbar (stats, fit to window, fullscreen),
// the viewer's own shortcuts, fit-to-window resizes and copy out of the app.
// Kept apart from session-view.ts, which wires the core input/stream path.
import type { InputEvent } from '../protocol/input.js';
import type { Banners } from './banners.js';
import { copyFromApp, isCopyShortcut, type ClipboardCopyDeps } from './clipboard-copy.js';
import { h } from './dom.js';
import type { ClusterRest } from './cluster-rest.js';
import { downloadDocument, exportFormats, saveBlob } from './document-download.js';
import { CHROME_BELOW_PX, fitArea, fitSize, keyboardOpen, needsResize, type FitSpace, type Size } from './fit-size.js';
import { StatsOverlay, type StatsSources } from './stats-overlay.js';
import { viewerShortcut } from './viewer-shortcuts.js';

/** Wait this long after the last window/layout change before resizing the app. */
const FIT_DEBOUNCE_MS = 300;
/** Small screens (matches viewer.css): the stage takes the visible height, the replica bar goes below the fold. */
const COMPACT_QUERY = '(max-width: 900px)';

export interface SessionExtrasDeps {
  sessionId: string;
  stage: HTMLElement;
  stageWrap: HTMLElement;
  toolbar: HTMLElement;
  banners: Banners;
  stats: StatsSources;
  /** Start with fit to window on (`?fit=1`). */
  fit: boolean;
  appSize: () => Size;
  send: (event: InputEvent) => void;
  canSendInput: () => boolean;
  copyRequest: ClipboardCopyDeps['request'];
  pendingInputs: () => number;
  ackedSeq: () => number;
  liveReplicaId: () => string | null;
  /** REST calls to any live server (the download). */
  rest: ClusterRest;
}

export interface SessionExtras {
  readonly fit: boolean;
  readonly statsVisible: boolean;
  setFit(on: boolean): void;
  toggleStats(show?: boolean): void;
  dispose(): void;
}

export function installSessionExtras(d: SessionExtrasDeps): SessionExtras {
  // The stage's CSS height cap leaves the same room as fit to window (one number, in fit-size.ts).
  d.stage.style.setProperty('--stage-chrome', `${CHROME_BELOW_PX}px`);
  const overlay = new StatsOverlay(d.stats);
  d.stageWrap.append(overlay.element);
  const cleanups: Array<() => void> = [() => overlay.dispose()];
  const on = <K extends keyof WindowEventMap>(
    target: Window | HTMLElement | Document,
    type: K,
    fn: (e: WindowEventMap[K]) => void,
    opts?: AddEventListenerOptions,
  ): void => {
    const handler = fn as EventListener;
    target.addEventListener(type, handler, opts);
    cleanups.push(() => target.removeEventListener(type, handler, opts));
  };

  const button = (label: string, title: string, testid: string, onClick: () => void): HTMLButtonElement => {
    const b = h('button', { class: 'btn btn-small', type: 'button', title, 'data-testid': testid }, label);
    b.addEventListener('click', onClick);
    return b;
  };
  const statsBtn = button('Stats', 'Stream statistics (F2 or Ctrl+Shift+S)', 'stats-button', () => toggleStats());
  const fitBtn = button('Fit to window', 'Size the app to this window (every replica resizes)', 'fit-button', () =>
    setFit(!fit),
  );
  const fullBtn = button('Fullscreen', 'Fullscreen (Ctrl+Shift+F)', 'fullscreen-button', () => toggleFullscreen());
  const zoomBtn = button('Pinch zoom', 'Two fingers zoom the picture (local only, not sent)', 'zoom-button', () =>
    setPinchZoom(!pinchZoom),
  );
  // Only touch screens pinch (a touchpad pinch arrives as Ctrl+wheel, which goes to the app).
  zoomBtn.hidden = !window.matchMedia('(any-pointer: coarse)').matches;
  d.toolbar.append(statsBtn, fitBtn, fullBtn, zoomBtn);

  // ---------------------------------------------------------------- download (a button per format the app exports)
  let disposed = false;
  cleanups.push(() => (disposed = true));
  const download = { sessionId: d.sessionId, rest: d.rest, pendingInputs: d.pendingInputs, save: saveBlob };
  void exportFormats(download).then((formats) => {
    if (disposed) return;
    for (const format of formats) {
      const b = button(`Download .${format}`, `The document as a .${format} file`, `download-${format}`, () => {
        b.disabled = true;
        void downloadDocument(download, format).then((r) => {
          b.disabled = false;
          if (r.ok) d.banners.show('info', `Downloaded ${r.filename}.`, { ttlMs: 2500, key: 'download' });
          else d.banners.show('warn', r.message, { ttlMs: 5000, key: 'download' });
        });
      });
      d.toolbar.append(b);
    }
  });

  // ---------------------------------------------------------------- pinch zoom
  // The browser zooms the page (the visual viewport): pointer mapping keeps
  // working, the fit ignores it, one finger still goes to the app.
  let pinchZoom = false;
  const setPinchZoom = (onOff: boolean): void => {
    pinchZoom = onOff;
    zoomBtn.setAttribute('aria-pressed', String(onOff));
    d.stage.style.touchAction = onOff ? 'pinch-zoom' : 'none';
  };
  setPinchZoom(false);

  // ---------------------------------------------------------------- stats
  const toggleStats = (show?: boolean): void => {
    overlay.toggle(show);
    statsBtn.setAttribute('aria-pressed', String(overlay.visible));
  };

  // ---------------------------------------------------------------- fullscreen
  const toggleFullscreen = (): void => {
    if (document.fullscreenElement) {
      void document.exitFullscreen().catch(() => undefined);
      return;
    }
    d.stageWrap.requestFullscreen().then(
      () => d.stage.focus({ preventScroll: true }),
      (err: unknown) =>
        d.banners.show('error', `Fullscreen refused: ${err instanceof Error ? err.message : String(err)}`, {
          ttlMs: 4000,
          key: 'fullscreen',
        }),
    );
  };

  // ---------------------------------------------------------------- shortcuts (before the stage sees the key)
  on(
    window,
    'keydown',
    (e) => {
      const s = viewerShortcut(e);
      if (!s) return;
      e.preventDefault();
      e.stopPropagation(); // never reaches the stage's capture: not sent to the app
      if (s === 'stats') toggleStats();
      else toggleFullscreen();
    },
    { capture: true },
  );

  // ---------------------------------------------------------------- copy out of the app
  on(d.stage, 'keydown', (e) => {
    if (!isCopyShortcut(e) || e.repeat) return;
    // The key itself still goes to the app (input-capture.ts); this only fills the clipboard.
    void copyFromApp({
      sessionId: d.sessionId,
      request: d.copyRequest,
      pendingInputs: d.pendingInputs,
      ackedSeq: d.ackedSeq,
      liveReplicaId: d.liveReplicaId,
      writeText: (text) => navigator.clipboard.writeText(text),
      onResult: (r) => {
        if (r.ok)
          d.banners.show('info', `Copied ${r.chars} character${r.chars === 1 ? '' : 's'}.`, {
            ttlMs: 1500,
            key: 'copy',
          });
        else d.banners.show('warn', r.message, { ttlMs: 3000, key: 'copy' });
      },
    });
  });

  // ---------------------------------------------------------------- fit to window
  let fit = false;
  let debounce: ReturnType<typeof setTimeout> | null = null;
  let lastSent: Size | null = null;

  const space = (): FitSpace => {
    const vv = window.visualViewport;
    return {
      fullscreen: document.fullscreenElement === d.stageWrap,
      compact: window.matchMedia(COMPACT_QUERY).matches,
      wrapWidth: d.stageWrap.clientWidth,
      wrapHeight: d.stageWrap.clientHeight,
      wrapTop: d.stageWrap.getBoundingClientRect().top + window.scrollY,
      layoutHeight: window.innerHeight,
      visibleHeight: vv ? vv.height * vv.scale : window.innerHeight,
    };
  };
  const fitNow = (): void => {
    debounce = null;
    if (!fit || !d.canSendInput()) return;
    const area = fitArea(space());
    const want = fitSize(area.width, area.height);
    const current = d.appSize();
    if (current.width <= 0 || !needsResize(current, want)) return;
    if (lastSent && !needsResize(lastSent, want) && needsResize(current, lastSent)) return; // already asked, frames pending
    lastSent = want;
    d.send({ type: 'resize', width: want.width, height: want.height });
    // Keep the whole surface above the keyboard.
    if (keyboardOpen(space())) d.stageWrap.scrollIntoView({ block: 'start' });
  };
  const scheduleFit = (): void => {
    if (!fit) return;
    if (debounce !== null) clearTimeout(debounce);
    debounce = setTimeout(fitNow, FIT_DEBOUNCE_MS);
  };
  const setFit = (onOff: boolean): void => {
    fit = onOff;
    lastSent = null;
    fitBtn.setAttribute('aria-pressed', String(fit));
    document.body.classList.toggle('fit-mode', fit);
    scheduleFit();
  };
  on(window, 'resize', scheduleFit);
  on(window, 'orientationchange', scheduleFit);
  // The on-screen keyboard shrinks the visual viewport only (the layout viewport stays).
  const vv = window.visualViewport;
  if (vv) {
    vv.addEventListener('resize', scheduleFit);
    cleanups.push(() => vv.removeEventListener('resize', scheduleFit));
  }
  const onFullscreen = (): void => {
    fullBtn.textContent = document.fullscreenElement ? 'Exit fullscreen' : 'Fullscreen';
    scheduleFit();
  };
  document.addEventListener('fullscreenchange', onFullscreen);
  cleanups.push(() => document.removeEventListener('fullscreenchange', onFullscreen));
  const ro = typeof ResizeObserver === 'function' ? new ResizeObserver(scheduleFit) : null;
  ro?.observe(d.stageWrap);
  cleanups.push(() => ro?.disconnect());
  // Until frames of the first size arrive, retry now and then (the join may still be in progress).
  const retry = setInterval(() => {
    if (fit && debounce === null) fitNow();
  }, 2000);
  cleanups.push(() => clearInterval(retry));
  setFit(d.fit);

  return {
    get fit() {
      return fit;
    },
    get statsVisible() {
      return overlay.visible;
    },
    setFit,
    toggleStats,
    dispose() {
      if (debounce !== null) clearTimeout(debounce);
      for (const c of cleanups.splice(0)) c();
    },
  };
}
