// How fresh a shown stream must stay while inputs are being acknowledged. One
// place for the bound: the viewer's health score uses it, the benches and
// tests that judge stale-stream switches read it from here.

/**
 * A resumed stream that has not shown an input this long after the viewer
 * sent it (and the input was acknowledged) is stale: a hung or partitioned
 * host keeps its sockets open and may keep a picture up, but it no longer
 * follows the log. Twice this box's loaded input-to-photon p95, so ordinary
 * jitter never trips it.
 */
export const STALE_STREAM_MS = 250;

/**
 * A just-resumed stream (a warm standby renders and sends a keyframe on
 * resume) gets this long to show the acknowledged inputs before the same rule
 * applies to it.
 */
export const STALE_RESUME_GRACE_MS = 600;
