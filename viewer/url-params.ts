// Reads the viewer's options from the page URL. Pure over the URL parts.
import type { StampSource } from './frame-stamp-reader.js';
import type { StreamMode } from './stream-manager.js';

export interface ViewerParams {
  /** `?token=` as given (checked with the server before use: token-intake.ts), or null. */
  token: string | null;
  /** Session to open: `?session=<id>` or `#/s/<id>`; null shows the session list. */
  sessionId: string | null;
  /** `?mode=hot|warm` (default warm). */
  mode: StreamMode;
  /** `?debug`: verbose console logging. */
  debug: boolean;
  /** `?fit=1`: size the app to the browser window (sent as resize inputs). Off by default. */
  fit: boolean;
  /**
   * Where frame stamps are read (frame-stamp-reader.ts): a track processor by default (frame callbacks where the
   * browser has none); `?stamps=frame` asks for frame callbacks (presentation times in the latency samples).
   */
  stamps: StampSource;
  /** `?display=tiles`: the shown stream drawn from its display channel instead of its video (tile-display.ts). */
  display: 'video' | 'tiles';
}

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

export function parseViewerParams(search: string, hash: string): ViewerParams {
  const q = new URLSearchParams(search);
  const fromHash = /^#\/s\/([^/?#]+)/.exec(hash)?.[1];
  const rawSession = q.get('session') ?? (fromHash === undefined ? null : safeDecode(fromHash));
  const token = q.get('token');
  return {
    token: token !== null && token !== '' ? token : null,
    sessionId: rawSession !== null && ID_PATTERN.test(rawSession) ? rawSession : null,
    mode: q.get('mode') === 'hot' ? 'hot' : 'warm',
    debug: q.has('debug'),
    fit: q.get('fit') === '1' || q.get('fit') === 'true',
    stamps: stampSourceParam(q.get('stamps')),
    display: q.get('display') === 'tiles' ? 'tiles' : 'video',
  };
}

/** A link to a session that keeps the viewer's own options (token, mode, debug). */
export function sessionHref(search: string, sessionId: string): string {
  const q = new URLSearchParams(search);
  q.set('session', sessionId);
  return `?${q.toString()}`;
}

/** The session list, keeping the viewer's options. */
export function listHref(search: string): string {
  const q = new URLSearchParams(search);
  q.delete('session');
  const s = q.toString();
  return s ? `?${s}` : '/';
}

function stampSourceParam(v: string | null): StampSource {
  return v === 'frame' || v === 'frame-callback' ? 'frame-callback' : 'processor';
}

function safeDecode(s: string): string | null {
  try {
    return decodeURIComponent(s);
  } catch {
    return null;
  }
}
