// The cluster side of an export (export-relay.ts): which of a session's
// replicas are homed on other servers, as this server's own placement table
// and node directory say (the host of each from the directory entry its home
// server sealed, not from any answer), and the signed server-to-server request
// that asks a home server for its replicas' files. The answer is parsed with
// zod and must name the server asked; the relay's files are counted by the
// asking ExportRelay, never taken on the relay's word.
import { PeerExportResponseSchema, type PeerExportAnswer, type PeerExportRequest } from '../../protocol/cluster.js';
import { LIMITS } from '../../protocol/limits.js';
import { UnavailableError } from '../errors.js';
import type { ExportPeers, RemoteExportTarget } from '../export-relay.js';
import type { ClusterMember } from './cluster-member.js';
import type { ClusterSecret } from './cluster-secret.js';

export const PEER_EXPORT_PATH = '/api/cluster/export';

/** The largest answer read: every replica's file as base64, and the JSON around them. */
const MAX_ANSWER_CHARS = 64 * LIMITS.maxSnapshotBase64;

export class ClusterExportPeers implements ExportPeers {
  readonly #member: ClusterMember;
  readonly #secret: ClusterSecret;
  readonly #timeoutMs: number;

  constructor(member: ClusterMember, secret: ClusterSecret, timeoutMs: number) {
    this.#member = member;
    this.#secret = secret;
    this.#timeoutMs = timeoutMs;
  }

  remoteTargets(sessionId: string): RemoteExportTarget[] {
    const m = this.#member;
    const self = m.registry.self.id;
    const live = new Set(m.registry.list().map((s) => s.id));
    const nodes = m.nodes.list();
    return (m.placement.get(sessionId)?.replicas ?? []).flatMap((r) => {
      if (r.homeServerId === self || !live.has(r.homeServerId)) return [];
      // The node must be in the directory under the home the table names (its home server published it there).
      const node = nodes.find((n) => n.nodeId === r.nodeId && n.homeServerId === r.homeServerId);
      return node
        ? [{ replicaId: r.replicaId, nodeId: r.nodeId, hostId: node.hostId, homeServerId: r.homeServerId }]
        : [];
    });
  }

  async ask(homeServerId: string, req: PeerExportRequest): Promise<PeerExportAnswer[]> {
    const server = this.#member.registry.list().find((s) => s.id === homeServerId);
    if (!server) throw new UnavailableError(`server ${homeServerId} is not in the registry`, { homeServerId });
    const body = JSON.stringify(req);
    const res = await fetch(`${server.url}${PEER_EXPORT_PATH}`, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...this.#secret.requestHeaders({ method: 'POST', path: PEER_EXPORT_PATH, body }),
      },
      body,
      signal: AbortSignal.timeout(this.#timeoutMs),
    });
    if (!res.ok) throw new UnavailableError(`${homeServerId} answered ${res.status}`, { homeServerId });
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > MAX_ANSWER_CHARS) throw new UnavailableError('export relay answer too large', { homeServerId });
    const text = await res.text();
    if (text.length > MAX_ANSWER_CHARS) throw new UnavailableError('export relay answer too large', { homeServerId });
    const parsed = PeerExportResponseSchema.safeParse(JSON.parse(text));
    if (!parsed.success || parsed.data.serverId !== homeServerId) {
      throw new UnavailableError(`${homeServerId} sent a malformed export relay answer`, { homeServerId });
    }
    return parsed.data.answers;
  }
}
