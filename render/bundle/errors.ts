// Named errors of app bundles (packing, decoding, verifying, caching).
import { RenderError } from '../errors.js';

/** The bytes are not a well-formed bundle (magic, lengths, paths, missing or extra files, manifest). */
export class BundleFormatError extends RenderError {}

/** The bytes do not hash to the name they were offered under: tampered, truncated, or another bundle. */
export class BundleHashError extends RenderError {}

/** Over LIMITS.maxBundleBytes. */
export class BundleTooLargeError extends RenderError {}
