// Bounds on everything that crosses a socket. The server enforces them; the
// viewer uses them to refuse early with a clear message.
export const LIMITS = {
  maxIdLength: 64,
  maxKeyLength: 32,
  maxPasteChars: 64 * 1024,
  minViewport: 64,
  maxViewportWidth: 3840,
  maxViewportHeight: 2160,
  /** socket.io maxHttpBufferSize: anything larger is dropped by the transport itself. */
  maxMessageBytes: 256 * 1024,
  /** Inputs returned by one `inputs.fetch` request. */
  maxFetchBatch: 2000,
  maxInputsPerSecondPerViewer: 400,
  maxSessionsPerOwner: 20,
  maxReplicationFactor: 7,
  maxAppNameLength: 32,
} as const;
