// Bounds on everything that crosses a socket. The server enforces them; the
// viewer uses them to refuse early with a clear message.
export const LIMITS = {
  maxIdLength: 64,
  /** A logged client id: the viewer's id (maxIdLength) inside its credential's space (server/access.ts). */
  maxLoggedClientIdLength: 96,
  maxKeyLength: 32,
  maxPasteChars: 64 * 1024,
  minViewport: 64,
  maxViewportWidth: 3840,
  maxViewportHeight: 2160,
  /** socket.io maxHttpBufferSize: anything larger is dropped by the transport itself (snapshots are the largest messages). */
  maxMessageBytes: 12 * 1024 * 1024,
  /** A state snapshot, base64 on the wire. */
  maxSnapshotBase64: 11 * 1024 * 1024,
  /** A file a new session is imported from. */
  maxImportBytes: 4 * 1024 * 1024,
  /** An image file's declared size (read from its header, before decoding): decoding takes 4 bytes a pixel. */
  maxImportDecodePixels: 4096 * 4096,
  /** An imported image as it enters the log, after fitting to the surface: 5 MiB of RGBA, so a paint snapshot stays well under maxSnapshotBase64. */
  maxImportImagePixels: 1280 * 1024,
  /** An exported document (base64 of it must fit maxSnapshotBase64). */
  maxExportBytes: 8 * 1024 * 1024,
  /** Inputs returned by one `inputs.fetch` request. */
  maxFetchBatch: 2000,
  maxInputsPerSecondPerViewer: 400,
  maxSessionsPerOwner: 20,
  minReplicationFactor: 2,
  maxReplicationFactor: 7,
  maxAppNameLength: 32,
  /** Any credential presented on the wire; longer strings are refused before hashing. */
  maxTokenLength: 256,
  /** Share links expire; this is the longest a link may live (30 days) and the default (24 h). */
  maxShareTtlSeconds: 30 * 24 * 3600,
  defaultShareTtlSeconds: 24 * 3600,
  minShareTtlSeconds: 60,
  /** Unexpired, unrevoked share links one owner may hold: bounds the tokens table. */
  maxActiveSharesPerOwner: 200,
  /** All requests of one viewer socket (inputs have their own, tighter bucket). */
  maxRequestsPerSecondPerViewer: 600,
  /** All requests of one renderer node (status reports for many replicas, fetches, heartbeats). */
  maxRequestsPerSecondPerNode: 3000,
  /** WebRTC transports one viewer connection may hold open at once (it needs one). */
  maxTransportsPerViewer: 4,
  /** Consumers one viewer connection may hold (one per replica stream, R <= 7). */
  maxConsumersPerViewer: 32,
  /** A replica's JPEG thumbnail for the session list (base64 on the wire). */
  maxThumbnailBytes: 96 * 1024,
  maxThumbnailBase64: 128 * 1024,
  /** A published app bundle (manifest + code + fonts), at upload and on a node's fetch. */
  maxBundleBytes: 8 * 1024 * 1024,
  /** One `bundle.fetch` chunk: a bundle crosses the node socket in pieces well under maxMessageBytes. */
  bundleChunkBytes: 1024 * 1024,
  /** Bundle hashes one node advertises as cached (warm). */
  maxAdvertisedBundles: 256,
  /** Replicas a (re)registering node may announce it still holds (node.register `held`). */
  maxHeldReplicas: 256,
  /**
   * One tile message on a replica's display channel (protocol/tile-frame.ts): under the SCTP message size both
   * ends negotiate (262,144 bytes, Chromium's and mediasoup's default); a whole frame larger than this goes as
   * several parts.
   */
  maxTileMessageBytes: 240 * 1024,
  /** Tiles in one message (damage comes as a few row bands; a whole frame's part as one). */
  maxTilesPerMessage: 64,
  /**
   * Display channels one viewer connection may open per second (each makes the replica's node encode a whole
   * frame: 13-74 ms of PNG at 720p, docs/tile-display.md); each channel is started once.
   */
  maxTileStartsPerSecondPerViewer: 4,
  /** Parts of one whole frame (2160 rows in parts of at least 64 rows would be 34; a 4K frame of text is ~1 MB of PNG). */
  maxTileParts: 48,
} as const;
