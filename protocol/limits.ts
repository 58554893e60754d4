// Bounds on everything that crosses a socket. The server enforces them; the
// viewer uses them to refuse early with a clear message.
export const LIMITS = {
  maxIdLength: 64,
  maxKeyLength: 32,
  maxPasteChars: 64 * 1024,
  minViewport: 64,
  maxViewportWidth: 3840,
  maxViewportHeight: 2160,
  /** socket.io maxHttpBufferSize: anything larger is dropped by the transport itself (snapshots are the largest messages). */
  maxMessageBytes: 12 * 1024 * 1024,
  /** A state snapshot, base64 on the wire. */
  maxSnapshotBase64: 11 * 1024 * 1024,
  /** Inputs returned by one `inputs.fetch` request. */
  maxFetchBatch: 2000,
  maxInputsPerSecondPerViewer: 400,
  maxSessionsPerOwner: 20,
  maxReplicationFactor: 7,
  maxAppNameLength: 32,
} as const;
