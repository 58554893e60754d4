// How a renderer node tells a silent home server from a slow one (issue 13
// follow-up: a partitioned or SIGSTOPped server keeps its socket open, and
// socket.io's own ping (server/lockstep-server.ts: 5 s + 5 s) made the nodes
// re-home only after ~5.5 s). The node pings its server on the request
// channel; the bounds are here so the server's and the node's sides agree.
// Plain constants (no zod).

/** The node sends a `node.ping` this often... */
export const NODE_PING_INTERVAL_MS = 250;
/**
 * ...and leaves its home server when nothing came from it (no answer to a
 * ping or any request, no notification) for this long. Loose: a server that
 * answers, however slowly (load 20 put ack p50 near 750 ms), keeps its nodes;
 * a node gone before socket.io would notice re-homes in about this long.
 */
export const NODE_SILENCE_MS = 2000;
/** The silence bound is never set below this (a configuration error would make nodes flap). */
export const NODE_SILENCE_MIN_MS = 500;
