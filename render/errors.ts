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

export class AppNotFoundError extends RenderError {
  constructor(readonly app: string) {
    super(`no app named "${app}" on this node`, { app });
  }
}
