// What servers publish about themselves in the cluster registry (etcd), and
// what GET /api/servers answers. Parsed here like every message that crosses
// a process boundary: an entry in etcd is written by another server, and a
// party with write access to etcd but without the cluster secret may have
// written it.
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { ExportedFileDataSchema } from './signalling.js';

const HttpUrlSchema = z
  .string()
  .max(2048)
  .url()
  .refine((u) => /^https?:\/\//.test(u), 'must be an http(s) URL');

export const ServerInfoSchema = z
  .object({
    id: z.string().min(1).max(LIMITS.maxIdLength),
    /** Where nodes and viewers reach this server (its --advertise URL). */
    url: HttpUrlSchema,
    /** Replicas (producers) this server's SFU takes at most. */
    sfuCapacity: z.number().int().nonnegative(),
    startedAt: z.number().int().nonnegative(),
  })
  .strict();
export type ServerInfo = z.infer<typeof ServerInfoSchema>;

/** A registry entry as stored: the info as JSON text and its HMAC under the cluster secret. */
export const SignedServerEntrySchema = z.object({ info: z.string().max(8192), mac: z.string().max(256) }).strict();

export const ServersResponseSchema = z
  .object({
    servers: z.array(ServerInfoSchema),
    /** The id of the server that answered (it may be reached by another URL than it advertises). */
    self: z.string().min(1).max(LIMITS.maxIdLength).optional(),
  })
  .strict();
export type ServersResponse = z.infer<typeof ServersResponseSchema>;

/**
 * A server origin the cluster has seen (written by each server when it joins,
 * sealed under the cluster secret, kept after the server is gone): pages
 * served from it may still reach the cluster's other servers.
 */
export const PeerOriginSchema = z
  .object({
    origin: HttpUrlSchema,
    /** When a server last registered under it (ms since the epoch). */
    seenAt: z.number().int().nonnegative(),
  })
  .strict();
export type PeerOrigin = z.infer<typeof PeerOriginSchema>;

const PeerIdSchema = z.string().min(1).max(LIMITS.maxIdLength);

/**
 * POST /api/cluster/export (server to server, signed with the cluster secret):
 * the asking server wants the files of these replicas, homed on the asked
 * server, at exactly `atSeq`. The asked server relays what its nodes answer;
 * it decides nothing (the asking server counts hosts from its own view).
 */
export const PeerExportRequestSchema = z
  .object({
    sessionId: PeerIdSchema,
    atSeq: z.number().int().min(0),
    format: z.string().regex(/^[a-z0-9]{1,8}$/),
    replicaIds: z.array(PeerIdSchema).min(1).max(64),
  })
  .strict();
export type PeerExportRequest = z.infer<typeof PeerExportRequestSchema>;

export const PeerExportResponseSchema = z
  .object({
    serverId: PeerIdSchema,
    answers: z
      .array(
        z
          .object({
            replicaId: PeerIdSchema,
            nodeId: PeerIdSchema,
            seq: z.number().int().min(0),
            /** base64 of the file, or null: the replica could not export (or did not answer in time). */
            data: ExportedFileDataSchema,
          })
          .strict(),
      )
      .max(64),
  })
  .strict();
export type PeerExportResponse = z.infer<typeof PeerExportResponseSchema>;
export type PeerExportAnswer = PeerExportResponse['answers'][number];
