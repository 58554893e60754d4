// Error codes carried in typed error replies. Each side maps them to its own
// named error classes; on the wire they are plain data.
import { z } from 'zod';

export const ERROR_CODES = [
  'bad-request',
  'unauthorized',
  'forbidden',
  'not-found',
  'conflict',
  'rate-limited',
  'too-large',
  /** Request headers over Node's limit (16 KB): refused by the HTTP parser before any route. */
  'headers-too-large',
  /**
   * An input the session's app does not read (a key release to an app whose manifest says `keyUps: false`,
   * protocol/app-inputs.ts): refused for good, never logged; the sender drops it.
   */
  'unwanted-input',
  'unavailable',
  'internal',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

/** The HTTP status each code answers with on REST routes. */
export const HTTP_STATUS: Readonly<Record<ErrorCode, number>> = {
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  conflict: 409,
  'rate-limited': 429,
  'too-large': 413,
  'headers-too-large': 431,
  'unwanted-input': 422,
  unavailable: 503,
  internal: 500,
};

export const WireErrorSchema = z
  .object({ code: z.enum(ERROR_CODES), message: z.string().max(2000), details: z.unknown().optional() })
  .strict();
export type WireError = z.infer<typeof WireErrorSchema>;

/** Every ack carries one of these: a result, or a typed error. */
export type Result<T> = { ok: true; data: T } | { ok: false; error: WireError };

/**
 * An ack as it arrives, before its data is parsed by the schema of the request it answers (a node parses its
 * server's acks: protocol/signalling.ts NodeResponseSchemas). `data` may be null (snapshot.fetch: none).
 */
export const WireResultSchema = z.discriminatedUnion('ok', [
  z.object({ ok: z.literal(true), data: z.unknown() }).strict(),
  z.object({ ok: z.literal(false), error: WireErrorSchema }).strict(),
]);

export function ok<T>(data: T): Result<T> {
  return { ok: true, data };
}
export function fail(code: ErrorCode, message: string, details?: unknown): Result<never> {
  return { ok: false, error: details === undefined ? { code, message } : { code, message, details } };
}
