// REST request shapes. Every body, query and path parameter the server reads
// is parsed with one of these; anything else is a 400 with a typed error.
import { z } from 'zod';
import { LIMITS } from './limits.js';
import { IMPORT_FORMATS } from './input.js';
import { IdSchema, type SessionInfo } from './session.js';

/** A bearer credential as it arrives (header or `?token=`): bounded before anything hashes it. */
export const BearerTokenSchema = z
  .string()
  .min(1)
  .max(LIMITS.maxTokenLength)
  .regex(/^[A-Za-z0-9_-]+$/, 'tokens are [A-Za-z0-9_-]');

export const SessionParamsSchema = z.object({ id: IdSchema }).strict();

const seqParam = z.coerce.number().int().min(1).max(Number.MAX_SAFE_INTEGER);
export const LogQuerySchema = z
  .object({ from: seqParam.default(1), to: seqParam.default(Number.MAX_SAFE_INTEGER), token: z.string().optional() })
  .strict()
  .refine((q) => q.to >= q.from, { message: 'from/to must be integers with 1 <= from <= to' });

/** Only the credential may ride in the query of the other GET endpoints. */
export const TokenOnlyQuerySchema = z.object({ token: z.string().optional() }).strict();

/** GET /api/sessions/:id/export: the document as a file; without `format`, the formats offered. */
export const ExportQuerySchema = z
  .object({
    format: z
      .string()
      .regex(/^[a-z0-9]{1,8}$/)
      .optional(),
    token: z.string().optional(),
  })
  .strict();

/** GET /api/sessions/:id/export without a format. */
export interface ExportFormats {
  formats: string[];
}

const intParam = z.coerce.number().int();

/** POST /api/sessions/import?format=…: a new session from the file in the body. */
export const ImportQuerySchema = z
  .object({
    format: z.enum(IMPORT_FORMATS),
    /** The app to import into; by default the first built-in app that imports the format. */
    app: z.string().min(1).max(LIMITS.maxAppNameLength).optional(),
    replicationFactor: intParam.min(LIMITS.minReplicationFactor).max(LIMITS.maxReplicationFactor).optional(),
    width: intParam.min(LIMITS.minViewport).max(LIMITS.maxViewportWidth).optional(),
    height: intParam.min(LIMITS.minViewport).max(LIMITS.maxViewportHeight).optional(),
    /**
     * Chosen by the client per import: the same id from the same owner names
     * the same session, so an import sent again (through another server after
     * a network error) completes the first instead of creating a second.
     */
    importId: z
      .string()
      .regex(/^[A-Za-z0-9_-]{16,64}$/)
      .optional(),
    token: z.string().optional(),
  })
  .strict();

/** POST /api/sessions/import: the new session and what went into its log. */
export interface ImportedSession {
  session: SessionInfo;
  imported: { format: string; bytes: number; inputs: number; headSeq: number };
}

/** POST /api/tokens/rotate: the presented owner token is revoked, a new one returned. */
export const RotateTokenBodySchema = z
  .object({
    /** Also revoke every other owner token and share link of this owner (a leak). */
    revokeShares: z.boolean().optional(),
  })
  .strict();

/** POST /api/tokens/revoke: revoke one share link (or node credential, operator only) by id. */
export const RevokeTokenBodySchema = z.object({ id: IdSchema }).strict();

/** POST /api/owners (operator only): a token for another owner; their sessions are theirs alone. */
export const CreateOwnerBodySchema = z
  .object({
    owner: IdSchema,
    ttlDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();

/** POST /api/hosts (operator only): admit one machine; its nodes get their host id and caps from this token. */
export const AdmitHostBodySchema = z
  .object({
    host: IdSchema,
    maxReplicas: z.number().int().min(1).max(1024).optional(),
    maxCores: z.number().int().min(1).max(1024).optional(),
    ttlDays: z.number().int().min(1).max(3650).optional(),
  })
  .strict();

/** POST /api/hosts/revoke (operator only): revoke a host's join token and its nodes' credentials. */
export const RevokeHostBodySchema = z.object({ host: IdSchema }).strict();

export interface IssuedHostToken {
  id: string;
  host: string;
  token: string;
  expiresAt: number;
}

export interface IssuedToken {
  id: string;
  token: string;
  owner: string;
  expiresAt: number;
}

/**
 * GET /api/whoami: what the presented token is, so the viewer checks a `?token=`
 * before it keeps it. No secrets, no other owner's data.
 */
export type WhoAmI =
  { kind: 'owner'; owner: string; admin: boolean } | { kind: 'share'; role: 'control' | 'view'; sessionId: string };

/**
 * GET /healthz (open: load balancers, probes): counts only, no ids. Not ok
 * (503) while durable flushes fail or the store cannot serve now (etcd
 * unreachable or without quorum); `reason` then says which, in words.
 */
export const HealthReportSchema = z
  .object({
    ok: z.boolean(),
    reason: z.string().optional(),
    store: z.string(),
    sessions: z.number().int().nonnegative(),
    nodes: z.number().int().nonnegative(),
    /**
     * Cluster mode: sessions whose input feed is stalled on this server, absent
     * when none is. Counts only (/healthz is open): the log names the sessions.
     */
    stalledFeeds: z
      .object({
        sessions: z.number().int().positive(),
        /** Stalled on a corrupt input: never applied nor skipped, stays until the session closes. */
        corrupt: z.number().int().nonnegative(),
        /** Truncated past the feed and being recovered from the latest snapshot. */
        recovering: z.number().int().nonnegative(),
        /** When the oldest of them stalled. */
        since: z.string(),
      })
      .strict()
      .optional(),
    durableWrites: z.union([
      z.object({ ok: z.literal(true) }).strict(),
      z.object({ ok: z.literal(false), failingSince: z.string().optional(), error: z.string().nullable() }).strict(),
    ]),
  })
  .strict();
export type HealthReport = z.infer<typeof HealthReportSchema>;
