// Why a replica stopped (node → server) and why a node would not start one:
// typed codes, so the server never sorts failures by matching words in text.
import { z } from 'zod';

/** How the app failed in a running replica (render/app-failure.ts classifies the sandbox's errors). */
export const AppFailureReasonSchema = z.enum([
  /** apply / render / snapshot / init threw (or returned something malformed). */
  'app-threw',
  /** A call ran past the sandbox's per-call time bound. */
  'app-timeout',
  /** The app's worker died (heap bound) or went over a drawing/surface bound. */
  'app-memory',
  /** The app's code could not be loaded into the sandbox. */
  'app-load',
]);
export type AppFailureReason = z.infer<typeof AppFailureReasonSchema>;

/** What a session shows once replicas on enough hosts failed at the same input: the app fails deterministically there. */
export const AppFailureSchema = z
  .object({
    /** The input the app failed on (0: before the first input, in init or restore). */
    seq: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    reason: AppFailureReasonSchema,
    message: z.string().max(300),
  })
  .strict();
export type AppFailure = z.infer<typeof AppFailureSchema>;

/**
 * Why a node would not start a replica. Permanent codes say the same bundle
 * will never run on that node (the server stops offering it there); transient
 * ones (a load that timed out under load, a fetch that failed) only re-place.
 */
export const RefusalCodeSchema = z.enum([
  /** The bundle's bytes do not hash to its name. */
  'bundle-hash',
  /** The bundle or its manifest does not parse, or its code does not bundle. */
  'bundle-invalid',
  /** The node's owner does not let it run this app (`lockstep node --apps`). */
  'policy',
  /** A built-in app version this node does not have. */
  'app-version',
  /** The app did not load in time (a busy machine): try again elsewhere, or later here. */
  'load-timeout',
  /** Anything else at start (fetch failed, video could not start, node closing). */
  'start-failed',
]);
export type RefusalCode = z.infer<typeof RefusalCodeSchema>;

const PERMANENT_REFUSALS: ReadonlySet<RefusalCode> = new Set([
  'bundle-hash',
  'bundle-invalid',
  'policy',
  'app-version',
]);

/** True when the node will never run this app version: only these mark a bundle refused on it. */
export function isPermanentRefusal(code: RefusalCode): boolean {
  return PERMANENT_REFUSALS.has(code);
}
