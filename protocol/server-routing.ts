// How a viewer spreads itself over a cluster's servers (issue 13 point 5): the
// bounds its server list and input route use. Plain constants (no zod): the
// browser bundle imports this file.

/**
 * A viewer resends an input it has no ack for after this long through another
 * live server (same client id and seq: the log's idempotent append makes the
 * second copy harmless). Well above a healthy ack (tens of ms), well below the
 * issue's 1.5 s input-stall bound.
 */
export const INPUT_RESEND_AFTER_MS = 400;
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
