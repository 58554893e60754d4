// Named errors of the app sandbox.
import { RenderError } from '../errors.js';

/** The app's code failed: it threw, returned something malformed, or could not load. */
export class AppCodeError extends RenderError {}

/** What stopped an app instance: a call past its time bound, its worker dying (heap bound), or a throw. */
export type AppStopKind = 'timeout' | 'memory' | 'threw';

/**
 * A call into the app ran past its time bound, or the app's worker died (out
 * of memory): the instance is gone. `context.stop` says which (AppStopKind).
 */
export class AppStoppedError extends RenderError {}

/** The app went over a resource bound of the sandbox (drawing commands, surface pixels). */
export class SandboxLimitError extends RenderError {}
