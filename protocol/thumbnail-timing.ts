// The pace of the session list's live thumbnails, shared by the renderer nodes
// that make them and the server that keeps one per session.
export const THUMBNAIL_TIMING = {
  /** A node looks for changed pictures this often (each replica's thumbnail at most this often). */
  intervalMs: 2000,
  /**
   * While the state changes at every look (someone types), a replica's thumbnail waits for a pause, but no
   * longer than this since its last one: a live source sends at least every movingMaxStaleMs + intervalMs.
   */
  movingMaxStaleMs: 10_000,
  /**
   * A session's thumbnails come from one replica (preferably one a viewer
   * watches: its frame is drawn anyway); another replica's are declined while
   * that source has sent one within this long. Longer than a live source's
   * longest gap while typing (movingMaxStaleMs + intervalMs, plus an encode and
   * a round trip): at 10 s, equal to movingMaxStaleMs, a warm standby asking in
   * the last 2 s of each such gap was told yes and drew its state for it.
   */
  sourceStaleMs: 15_000,
  /** A node whose thumbnail was declined offers that replica's again after this long (or once a viewer watches it). */
  declinedRetryMs: 30_000,
} as const;
