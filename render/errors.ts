// Named errors of the renderer node.
export class RenderError extends Error {
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/** A snapshot is missing or does not match its hash. */
export class SnapshotError extends RenderError {}

/** The app threw in apply/render, or its sandbox stopped it: the replica is marked failed. */
export class AppFailedError extends RenderError {}

/** Asked for an export format the app does not offer. */
export class ExportError extends RenderError {}

/** Asked to host an app version this node does not have. */
export class AppVersionError extends RenderError {}

export class AppNotFoundError extends RenderError {
  constructor(readonly app: string) {
    super(`no app named "${app}" on this node`, { app });
  }
}
