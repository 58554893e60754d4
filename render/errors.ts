// Named errors of the renderer node.
import type { AppFailureReason } from '../protocol/replica-failure.js';

export class RenderError extends Error {
  constructor(
    message: string,
    readonly context: Record<string, unknown> = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * The server's ack (or its data) is not what the request's schema allows (protocol/signalling.ts
 * NodeResponseSchemas): a hostile or broken server, or a man in the middle. Nothing of it is acted on.
 */
export class MalformedReplyError extends RenderError {
  constructor(
    readonly request: string,
    /** What the schema found wrong (its first few issues), for the log. */
    readonly issues: string[],
  ) {
    super(`malformed reply to ${request} from the server${issues.length > 0 ? `: ${issues.join('; ')}` : ''}`, {
      request,
    });
  }
}

/** A snapshot is missing or does not match its hash. */
export class SnapshotError extends RenderError {}

/** The app threw in apply/render, or its sandbox stopped it: the replica is marked failed (at `seq`, for `reason`). */
export class AppFailedError extends RenderError {
  constructor(
    message: string,
    readonly reason: AppFailureReason,
    readonly seq: number,
    context: Record<string, unknown> = {},
  ) {
    super(message, { ...context, reason, seq });
  }
}

/** Asked for an export format the app does not offer. */
export class ExportError extends RenderError {}

/** Asked to host an app version this node does not have. */
export class AppVersionError extends RenderError {}

/** Asked to host an app its owner does not let it run (`lockstep node --apps`). */
export class AppPolicyError extends RenderError {}

export class AppNotFoundError extends RenderError {
  constructor(readonly app: string) {
    super(`no app named "${app}" on this node`, { app });
  }
}
