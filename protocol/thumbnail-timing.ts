// The pace of the session list's live thumbnails, shared by the renderer nodes
// that make them and the server that keeps one per session.
export const THUMBNAIL_TIMING = {
  /** A node looks for changed pictures this often (each replica's thumbnail at most this often). */
  intervalMs: 2000,
  /**
   * A session's thumbnails come from one replica (preferably one a viewer
   * watches: its frame is drawn anyway); another replica's are declined while
   * that source has sent one within this long.
   */
  sourceStaleMs: 10_000,
  /** A node whose thumbnail was declined offers that replica's again after this long (or once a viewer watches it). */
  declinedRetryMs: 30_000,
} as const;
