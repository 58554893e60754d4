// The origins of the cluster's servers as this server has seen them in the
// registry: a viewer page served by any of them may open sockets here and
// read /api/servers (web-guards.ts, cluster-routes.ts). Servers that left the
// registry are remembered: a page whose own server died keeps reconnecting to
// the others, Origin still naming the dead one. What this process saw live is
// joined by the cluster's durable record (origin-record.ts), so a server
// restarted after a peer died still knows that peer's origin.
import type { ServerInfo } from '../../protocol/cluster.js';
import { registryOrigins } from '../web-guards.js';

/** Bounds what a long-running server remembers (oldest forgotten first). */
const MAX_REMEMBERED = 256;

export class PeerOrigins {
  readonly #list: () => readonly ServerInfo[];
  readonly #recorded: () => readonly string[];
  readonly #seen = new Set<string>();

  /** `recorded`: the cluster's durable record of origins (sealed entries only). */
  constructor(list: () => readonly ServerInfo[], recorded: () => readonly string[] = () => []) {
    this.#list = list;
    this.#recorded = recorded;
  }

  /** The live servers' origins, those seen live before and those the cluster recorded. */
  current(): string[] {
    for (const o of registryOrigins(this.#list())) {
      if (this.#seen.has(o)) continue;
      this.#seen.add(o);
      if (this.#seen.size > MAX_REMEMBERED) {
        const oldest = this.#seen.values().next().value;
        if (oldest !== undefined) this.#seen.delete(oldest);
      }
    }
    const out = new Set(this.#seen);
    for (const o of this.#recorded()) out.add(o);
    return [...out];
  }
}
