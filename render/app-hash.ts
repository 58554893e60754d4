// A short, stable fingerprint of an app state: replicas compare these to prove
// they agree without shipping whole snapshots around. Two rules, both here
// (documented in docs/apps.md, "State hash"):
// - a snapshot's hash is sha256 of its bytes: the server checks stored and
//   uploaded snapshots against it, and the snapshot quorum votes on it;
// - a replica's status hash (the divergence vote) is, for an app that defines
//   stateDigest, sha256 of a domain tag and that digest, so it is kept current
//   without serialising the whole state after every input; otherwise it is the
//   snapshot's hash.
import { createHash } from 'node:crypto';
import type { ReplicaApp } from './replica-app.js';

const DIGEST_DOMAIN = 'lockstep.state-digest.v1\n';

/** sha256 of canonical snapshot bytes, as the first 32 hex characters. */
export function stateHashOf(bytes: Buffer): string {
  return createHash('sha256').update(bytes).digest('hex').slice(0, 32);
}

/** The status hash of an app's state digest (domain-separated: never equal to a snapshot's hash). */
export function digestHashOf(digest: Buffer): string {
  return createHash('sha256').update(DIGEST_DOMAIN).update(digest).digest('hex').slice(0, 32);
}

/** The status hash of `state` from the app's state digest, or null when the app defines none. */
export async function digestStatusHashOf<S>(app: ReplicaApp<S>, state: S): Promise<string | null> {
  const digest = await app.stateDigest(state);
  return digest ? digestHashOf(digest) : null;
}

/** The hash a replica reports in its status for `state`. */
export async function statusHashOf<S>(app: ReplicaApp<S>, state: S): Promise<string> {
  return (await digestStatusHashOf(app, state)) ?? stateHashOf(await app.snapshot(state));
}
