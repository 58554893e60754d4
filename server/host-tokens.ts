// The operator's admission of renderer hosts: one join token per machine,
// bound to its host id and optional caps on what its nodes may claim. A node's
// host id comes from here, never from the node, and revoking a host's token
// revokes every node credential issued under it.
import { ConflictError, NotFoundError } from './errors.js';
import type { Issued, TokenRecord, TokenStore } from './token-store.js';

/** Per-host join tokens last a year unless the operator says otherwise. */
const HOST_TOKEN_TTL_DAYS = 365;

export interface HostCaps {
  maxReplicas?: number | undefined;
  maxCores?: number | undefined;
}

/** An admitted host as `lockstep hosts` and GET /api/hosts list it (no secrets). */
export interface AdmittedHost {
  hostId: string;
  tokenId: string;
  maxReplicas: number | null;
  maxCores: number | null;
  createdAt: number;
  expiresAt: number;
}

export class HostTokens {
  readonly #store: TokenStore;

  constructor(store: TokenStore) {
    this.#store = store;
  }

  /**
   * The operator admits one machine: a join token bound to `hostId`, with
   * optional caps on what its nodes may claim. One active token per host.
   */
  async issue(hostId: string, caps: HostCaps = {}, ttlDays?: number): Promise<Issued> {
    const active = (await this.#store.listActiveOfKind('host')).find((t) => t.hostId === hostId);
    if (active) {
      throw new ConflictError(`host ${hostId} already has an active join token (${active.id}); revoke it first`, {
        hostId,
      });
    }
    return this.#store.issue({
      kind: 'host',
      owner: `host:${hostId}`,
      hostId,
      maxReplicas: caps.maxReplicas ?? null,
      maxCores: caps.maxCores ?? null,
      role: 'node',
      label: 'host',
      ttlMs: (ttlDays ?? HOST_TOKEN_TTL_DAYS) * 24 * 3600_000,
    });
  }

  async list(): Promise<AdmittedHost[]> {
    return (await this.#store.listActiveOfKind('host'))
      .filter((t): t is TokenRecord & { hostId: string } => t.hostId !== null)
      .map((t) => ({
        hostId: t.hostId,
        tokenId: t.id,
        maxReplicas: t.maxReplicas,
        maxCores: t.maxCores,
        createdAt: t.createdAt,
        expiresAt: t.expiresAt,
      }));
  }

  /** Revokes a host's join token and every node credential issued under it; returns their ids (to drop them). */
  async revoke(hostId: string): Promise<string[]> {
    const hostTokens = await this.#store.revokeWhere({ kind: 'host', hostId });
    if (hostTokens.length === 0) throw new NotFoundError(`no admitted host ${hostId}`, { hostId });
    const nodes: string[] = [];
    for (const id of hostTokens) nodes.push(...(await this.#store.revokeWhere({ kind: 'node', parentId: id })));
    return [...hostTokens, ...nodes];
  }
}
