// The black-box latency probe the peer bench runs in both pages (Lockstep's
// viewer and noVNC): from a keydown to the first displayed frame whose pixels
// differ from the picture at the keydown. One code path for both systems: the
// picture is read with drawImage + getImageData from the shown element, a
// <video> on each requestVideoFrameCallback or a <canvas> on each
// requestAnimationFrame, and only while a keystroke waits for its change.
// Installed as an init script (a plain string: tsx would wrap named helpers in
// a __name() the page lacks); driven through window.__pixelWatch.

/** A pixel counts as changed when a channel moves by more than this (compression noise stays below). */
export const CHANGE_THRESHOLD = 48;
/** A frame counts as changed when at least this many (downscaled) pixels did (a glyph or a cursor move is far more). */
export const MIN_CHANGED_PIXELS = 4;
/** Frames are read downscaled by this factor in each direction. */
export const READ_SCALE = 2;

export interface PixelWatchOptions {
  /** CSS selector of the shown element, looked up again on every frame (a failover swaps it). */
  selector: string;
  kind: 'video' | 'canvas';
  /** Rows cut off the bottom of each frame (Lockstep's seq stamp strip, out of sight in the viewer). */
  cropBottom: number;
}

export interface PixelWatchState {
  /** ms from each keydown to performance.now() in the callback of the first frame whose pixels changed. */
  samples: number[];
  /** performance.now() of every keydown seen while running. */
  keydownAt: number[];
  /** Frames read (only while a keystroke waits, or during a noise check). */
  frames: number;
  /** Time spent reading pixels (drawImage + getImageData). */
  readMs: number;
  /** Frames read during noise checks, and how many of them differed from the picture at the start. */
  noiseFrames: number;
  noiseChanged: number;
}

export const PIXEL_WATCH_SCRIPT = `(() => {
  if (window.__pixelWatch) return;
  const TH = ${CHANGE_THRESHOLD};
  const MIN = ${MIN_CHANGED_PIXELS};
  const SCALE = ${READ_SCALE};
  const st = { samples: [], keydownAt: [], frames: 0, readMs: 0, noiseFrames: 0, noiseChanged: 0 };
  let opts = null;
  let running = false;
  const pending = [];
  let noise = null;
  let armed = null;
  const canvas = document.createElement('canvas');
  let ctx = null;
  const el = () => (opts ? document.querySelector(opts.selector) : null);
  const read = (e) => {
    if (!e) return null;
    const w = opts.kind === 'video' ? e.videoWidth : e.width;
    const h = (opts.kind === 'video' ? e.videoHeight : e.height) - opts.cropBottom;
    if (!(w > 0 && h > 0)) return null;
    // Read at half size: a quarter of the work on the page's main thread (a full-size read per frame
    // slowed the noVNC page itself under load); a glyph or a cursor move still changes many pixels.
    const cw = Math.max(1, Math.round(w / SCALE));
    const ch = Math.max(1, Math.round(h / SCALE));
    if (canvas.width !== cw || canvas.height !== ch || !ctx) {
      canvas.width = cw;
      canvas.height = ch;
      ctx = canvas.getContext('2d', { willReadFrequently: true });
    }
    const t0 = performance.now();
    ctx.drawImage(e, 0, 0, w, h, 0, 0, cw, ch);
    const px = ctx.getImageData(0, 0, cw, ch).data;
    st.readMs += performance.now() - t0;
    return px;
  };
  const changed = (a, b) => {
    if (!a || !b || a.length !== b.length) return false;
    let n = 0;
    for (let i = 0; i < a.length; i += 4) {
      if (Math.abs(a[i] - b[i]) > TH || Math.abs(a[i + 1] - b[i + 1]) > TH || Math.abs(a[i + 2] - b[i + 2]) > TH) {
        if (++n >= MIN) return true;
      }
    }
    return false;
  };
  // The time is read in the callback itself: the callbacks' own timestamps proved unreliable
  // for rAF in headless Chromium under load (far off the keydowns' performance.now()).
  const onFrame = () => {
    if (pending.length === 0 && !noise) return;
    const now = performance.now();
    const px = read(el());
    if (!px) return;
    st.frames++;
    for (let i = pending.length - 1; i >= 0; i--) {
      if (changed(pending[i].base, px)) {
        st.samples.push(now - pending[i].at);
        pending.splice(i, 1);
      }
    }
    if (noise) {
      st.noiseFrames++;
      if (changed(noise, px)) st.noiseChanged++;
    }
  };
  const armVideo = () => {
    const v = el();
    if (!running || !v || v === armed || typeof v.requestVideoFrameCallback !== 'function') return;
    armed = v;
    const cb = () => {
      if (!running || el() !== v) {
        if (armed === v) armed = null;
        return;
      }
      onFrame();
      v.requestVideoFrameCallback(cb);
    };
    v.requestVideoFrameCallback(cb);
  };
  const loopCanvas = () => {
    if (!running) return;
    onFrame();
    requestAnimationFrame(loopCanvas);
  };
  let timer = null;
  window.addEventListener(
    'keydown',
    () => {
      if (!running) return;
      const at = performance.now();
      st.keydownAt.push(at);
      const base = read(el());
      if (base) pending.push({ at, base });
    },
    { capture: true },
  );
  window.__pixelWatch = {
    state: st,
    start(o) {
      opts = o;
      running = true;
      if (o.kind === 'video') {
        armVideo();
        timer = setInterval(armVideo, 100);
      } else requestAnimationFrame(loopCanvas);
    },
    stop() {
      running = false;
      armed = null;
      if (timer !== null) clearInterval(timer);
      pending.length = 0;
      noise = null;
    },
    noiseStart() {
      noise = read(el());
    },
    noiseStop() {
      noise = null;
    },
    pendingCount() {
      return pending.length;
    },
  };
})();`;
