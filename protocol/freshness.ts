// How fresh a shown stream must stay while inputs are being acknowledged. One
// place for the bound: the viewer's health score uses it, the benches and
// tests that judge stale-stream switches read it from here.

/**
 * A resumed stream that has not shown an input this long after the viewer
 * sent it (and the input was acknowledged) is stale: a hung or partitioned
 * host keeps its sockets open and may keep a picture up, but it no longer
 * follows the log. The floor of the bound (see STALE_TAIL_FACTOR): about
 * twice this box's input-to-photon p95 when it is not overloaded.
 */
export const STALE_STREAM_MS = 250;

/**
 * A just-resumed stream (a warm standby renders and sends a keyframe on
 * resume) gets this long to show the acknowledged inputs before the same rule
 * applies to it.
 */
export const STALE_RESUME_GRACE_MS = 600;

/**
 * The bound follows the delays this viewer has actually seen on the shown
 * stream: a box that is loaded everywhere shows every input late, and leaving
 * one slow stream for another equally slow one helps no one. It is
 * STALE_TAIL_FACTOR × the longest of the last STALE_TAIL_SAMPLES input-to-shown
 * delays, never below STALE_STREAM_MS nor above STALE_STREAM_MAX_MS.
 */
export const STALE_TAIL_FACTOR = 1.5;
export const STALE_TAIL_SAMPLES = 64;
export const STALE_STREAM_MAX_MS = 1500;
/** Until this many delays were seen the viewer does not know the box yet: the bound is STALE_STREAM_MAX_MS. */
export const STALE_MIN_SAMPLES = 8;
