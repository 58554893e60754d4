// How a viewer spreads itself over a cluster's servers (issue 13 point 5): the
// bounds its server list and input route use. Plain constants (no zod): the
// browser bundle imports this file.

/**
 * A viewer resends an input it has no ack for through another live server
 * (same client id and seq: the log's idempotent append makes the second copy
 * harmless) after INPUT_RESEND_RTT_FACTOR × the p99 of its last
 * INPUT_RESEND_RTT_SAMPLES ack round trips, never sooner than
 * INPUT_RESEND_MIN_MS (viewer/resend-policy.ts). Before it has seen
 * INPUT_RESEND_MIN_SAMPLES acks, after this long: well above a healthy ack
 * (tens of ms), well below the 1.5 s input-stall bound.
 */
export const INPUT_RESEND_AFTER_MS = 400;
/** The adaptive no-ack wait is this many times the recent acks' p99 round trip... */
export const INPUT_RESEND_RTT_FACTOR = 2;
/** ...over this many recent acks... */
export const INPUT_RESEND_RTT_SAMPLES = 64;
/** ...once at least this many were seen... */
export const INPUT_RESEND_MIN_SAMPLES = 8;
/**
 * ...and never below this: a partitioned server is left this soon at the
 * earliest (issue 13: the fixed 400 ms made most of a 604 ms visible gap).
 */
export const INPUT_RESEND_MIN_MS = 100;
/**
 * Where the viewer can ping the route's server (cluster mode), it does so once
 * the oldest input in flight has waited this many times the acks' p50 (never
 * sooner than ROUTE_PING_AFTER_MIN_MS)...
 */
export const ROUTE_PING_AFTER_FACTOR = 2;
export const ROUTE_PING_AFTER_MIN_MS = 50;
/** Never later than this: a ping costs the server nothing (at load 20 the acks' p50 was up to 750 ms). */
export const ROUTE_PING_AFTER_MAX_MS = 150;
/**
 * ...and moves the route when the ping has no answer for this many times the
 * pings' p99 round trip (INPUT_RESEND_MIN_MS to ROUTE_PING_WAIT_MAX_MS; before
 * INPUT_RESEND_MIN_SAMPLES pings were answered, ROUTE_PING_WAIT_UNKNOWN_MS). A
 * ping needs only the server's event loop: a server slow to commit answers it.
 */
export const ROUTE_PING_WAIT_FACTOR = 2;
export const ROUTE_PING_WAIT_MAX_MS = 300;
export const ROUTE_PING_WAIT_UNKNOWN_MS = 200;
/**
 * Each move of the input route without an ack since doubles that wait, up to
 * this: a slow-but-alive cluster (commits beyond 400 ms under load) is not
 * flooded with copies of every unacknowledged input (issue 13).
 */
export const INPUT_RESEND_MAX_MS = 2000;
/** A server that just failed inputs is not chosen again for this long while another is usable. */
export const INPUT_ROUTE_SUSPECT_MS = 5000;
/** A viewer skips a server it could not reach: first for this long, doubling per failure... */
export const SERVER_RETRY_MIN_MS = 250;
/** ...up to this. */
export const SERVER_RETRY_MAX_MS = 8000;
/** How often a viewer asks a live server for the cluster's server list (GET /api/servers). */
export const SERVER_LIST_REFRESH_MS = 5000;
