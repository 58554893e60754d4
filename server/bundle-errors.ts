// Named errors of published app bundles on the server (kept beside the bundle store).
import { LockstepError } from './errors.js';

/** The upload is not a valid bundle, or its bytes do not match the hash it came with. */
export class BundleRejectedError extends LockstepError {
  readonly code = 'bad-request' as const;
}

/** The upload is larger than LIMITS.maxBundleBytes. */
export class BundleTooLargeError extends LockstepError {
  readonly code = 'too-large' as const;
}
