// Typed codes for what went wrong with a replica's app, read from the named
// errors of the sandbox and bundle code: what the node reports to the server
// (replica.failed, replica.refuse) so nothing downstream sorts free text.
import type { AppFailureReason, RefusalCode } from '../protocol/replica-failure.js';
import { BundleFormatError, BundleHashError, BundleTooLargeError } from './bundle/errors.js';
import { AppNotFoundError, AppPolicyError, AppVersionError } from './errors.js';
import { AppCodeError, AppStoppedError, SandboxLimitError } from './sandbox/errors.js';

/** Why the app of a running replica failed (`err`: what apply/render/snapshot/init threw). */
export function appFailureReason(err: unknown): AppFailureReason {
  if (err instanceof AppStoppedError) {
    const stop = err.context['stop'];
    if (stop === 'memory') return 'app-memory';
    if (stop === 'threw') return 'app-threw';
    return 'app-timeout';
  }
  if (err instanceof SandboxLimitError) return 'app-memory';
  if (err instanceof AppCodeError && err.context['op'] === 'load') return 'app-load';
  // AppCodeError, and anything a built-in app throws.
  return 'app-threw';
}

/**
 * A start that failed in the app itself (init or restore threw, a call timed
 * out, its worker died): the app's failure, reported like a failing apply.
 * A sandbox that did not finish loading in time is the machine's, not the app's.
 */
export function isAppStartFailure(err: unknown): boolean {
  if (err instanceof AppStoppedError) return !(err.context['op'] === 'load' && err.context['stop'] === 'timeout');
  return err instanceof AppCodeError || err instanceof SandboxLimitError;
}

/** Why the node would not start a replica (`err`: what finding, fetching or loading its app threw). */
export function refusalCodeOf(err: unknown): RefusalCode {
  if (err instanceof BundleHashError) return 'bundle-hash';
  if (err instanceof BundleFormatError || err instanceof BundleTooLargeError || err instanceof AppCodeError) {
    return 'bundle-invalid';
  }
  if (err instanceof AppPolicyError) return 'policy';
  if (err instanceof AppVersionError || err instanceof AppNotFoundError) return 'app-version';
  // A load that did not answer in time, or whose worker died: the machine may just be busy.
  if (err instanceof AppStoppedError) return 'load-timeout';
  return 'start-failed';
}
