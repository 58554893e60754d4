// The one place a socket request becomes a handler call: parse it with the
// protocol schema, run the handler, and reply with a Result. A malformed
// message gets a typed error reply; nothing here can crash the server.
import type { z } from 'zod';
import { fail, ok, type Result } from '../protocol/errors.js';
import type { Logger } from '../protocol/logger.js';
import { LockstepError, NotRegisteredError, OutOfOrderError } from './errors.js';

export type Ack = (res: Result<unknown>) => void;

export function errorReply(err: unknown, log: Logger, msgType: string): Result<never> {
  if (err instanceof LockstepError) {
    // Refusals of another's resources or of data that contradicts the record
    // (a hash for a replica it does not host, a bad snapshot) are worth an operator's eye.
    const level = err.code === 'forbidden' || err.code === 'conflict' ? 'warn' : 'debug';
    log[level]({ type: msgType, code: err.code, err: err.message, context: err.context }, 'request refused');
    return fail(err.code, err.message, wireDetails(err));
  }
  // mediasoup raises TypeError/UnsupportedError for parameters it rejects.
  if (err instanceof TypeError || (err instanceof Error && err.name === 'UnsupportedError')) {
    log.debug({ type: msgType, err: err.message }, 'request rejected by mediasoup');
    return fail('bad-request', err.message);
  }
  log.error({ type: msgType, err }, 'request failed');
  return fail('internal', 'internal error');
}

/**
 * What of a refusal's context the sender may see: only what it must act on
 * (the rest names internals). An out-of-order input says where to resend
 * from, so the viewer resends from `expected` through the same server
 * instead of guessing (issue 13).
 */
function wireDetails(err: LockstepError): { expected: number } | { registered: false } | undefined {
  if (err instanceof NotRegisteredError) return { registered: false };
  const expected = err.context['expected'];
  return err instanceof OutOfOrderError && Number.isSafeInteger(expected)
    ? { expected: expected as number }
    : undefined;
}

/**
 * Wraps a socket `request` listener: validates, dispatches, acks exactly once.
 * `handle` receives the parsed message and returns the result data.
 */
export function dispatcher<T extends { type: string }>(
  schema: z.ZodType<T, z.ZodTypeDef, unknown>,
  log: Logger,
  handle: (msg: T) => unknown,
): (raw: unknown, ack?: unknown) => void {
  return (raw, ackArg) => {
    const ack: Ack = typeof ackArg === 'function' ? (ackArg as Ack) : () => undefined;
    const parsed = schema.safeParse(raw);
    if (!parsed.success) {
      const rawType: unknown = typeof raw === 'object' && raw !== null && 'type' in raw ? raw.type : undefined;
      const type = typeof rawType === 'string' ? rawType.slice(0, 40) : '?';
      const issues = parsed.error.issues.slice(0, 5).map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`);
      log.debug({ type, issues }, 'malformed request dropped');
      ack(fail('bad-request', `malformed "${type}" request: ${issues.join('; ')}`));
      return;
    }
    const msg = parsed.data;
    const type = msg.type;
    Promise.resolve()
      .then(() => handle(msg))
      .then(
        (data) => ack(ok(data)),
        (err: unknown) => ack(errorReply(err, log, type)),
      )
      .catch((err: unknown) => log.error({ err }, 'ack failed'));
  };
}
