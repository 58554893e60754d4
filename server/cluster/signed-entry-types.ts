// Types of the sealed etcd entry codec (signed-entry.ts).
import type { z } from 'zod';
import type { Logger } from '../../protocol/logger.js';
import type { ErrorContext } from '../errors.js';
import type { ClusterSecret } from './cluster-secret.js';
import type { FencedOp } from './fenced-writer.js';
import type { TermVerdict } from './leader-term.js';

export interface SignedEntryOptions<T> {
  secret: ClusterSecret;
  /** Separates the kinds: an entry sealed for one purpose never opens as another's. */
  purpose: string;
  /** Every value is parsed with it, sealed or opened. */
  schema: z.ZodType<T>;
  /** The owning module's logger: what does not open is logged there. */
  log: Logger;
  /**
   * The key a value must be filed under (null: under none). Given, an entry
   * under another key does not open (MisfiledEntryError), even with a valid MAC.
   */
  keyOf?: (value: T) => string | null;
}

/** A value the leader writes under its fence: stamped with the term it was made in. */
export interface Termed {
  term: string;
}

/** What a fenced put needs of the leader's writer (FencedWriter). */
export interface FencedWrites {
  verdict(): TermVerdict;
  /** The term now; NotLeaderError on a server that does not lead. */
  term(context?: ErrorContext): string;
  /** Writes `ops` fenced on the leader key (StaleFenceError when `forTerm` is not the term now). */
  write(ops: readonly FencedOp[], forTerm?: string): Promise<string>;
}
