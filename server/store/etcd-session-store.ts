// SessionStore on etcd: session records replicated on a majority of the etcd
// members, so every server of a cluster sees the same sessions and quotas.
//
// Keys (ids and owners are encodeURIComponent'd, so they never contain "/"):
//   <ns>sess/rec/<id>              the record (JSON), open or closed
//   <ns>sess/open/<owner>/<id>     the record again while it is open: one range lists an owner's open sessions
//   <ns>sess/owner/<owner>         bumped by every create: the compare that makes the quota check atomic
//   <ns>sess/closed/<id>           written by the close: the leader's upkeep purges the session's keys and this
import type { Etcd3 } from 'etcd3';
import { z } from 'zod';
import { AppRefSchema } from '../../protocol/session.js';
import { ConflictError, DurabilityError, NotFoundError } from '../errors.js';
import {
  byCreation,
  defaultMaxOpenSessions,
  newSessionRecord,
  requireQuota,
  type NewSession,
  type SessionRecord,
  type SessionStore,
  type SessionStoreOptions,
} from '../session-store.js';
import { EtcdRecords, MAX_CAS_ATTEMPTS } from './etcd-records.js';

/** A stored session record (the cluster's session watch parses the same records). */
export const SessionRecordSchema = z.object({
  id: z.string(),
  owner: z.string(),
  app: AppRefSchema,
  replicationFactor: z.number().int(),
  width: z.number().int(),
  height: z.number().int(),
  createdAt: z.number(),
  closedAt: z.number().nullable(),
});

const enc = (s: string): string => encodeURIComponent(s);

/** Where every record lives, open or closed (`<id>` below it). */
export const sessionRecordsPrefix = (namespace = 'lockstep/'): string => `${namespace}sess/rec/`;

/** Where open records live (`<owner>/<id>` below it): what the cluster's session watch follows. */
export const openSessionsPrefix = (namespace = 'lockstep/'): string => `${namespace}sess/open/`;

/**
 * Closed sessions whose keys are not purged yet (`<id>` below it, the value
 * the close time): the leader's upkeep reads them here, so a session closed
 * under an earlier leader, or through another server, is purged all the same.
 */
export const closedSessionsPrefix = (namespace = 'lockstep/'): string => `${namespace}sess/closed/`;
export const closedSessionKey = (namespace: string, id: string): string =>
  `${closedSessionsPrefix(namespace)}${enc(id)}`;

/** The session ids of `closedSessionsPrefix` keys (ones that are not a single encoded id are skipped). */
export function closedSessionIds(namespace: string, keys: readonly string[]): string[] {
  const prefix = closedSessionsPrefix(namespace);
  const ids: string[] = [];
  for (const key of keys) {
    const rest = key.startsWith(prefix) ? key.slice(prefix.length) : '';
    if (rest === '' || rest.includes('/')) continue;
    try {
      const id = decodeURIComponent(rest);
      if (enc(id) === rest) ids.push(id);
    } catch {
      // Not an encoded id (a malformed escape): not a key this store wrote.
    }
  }
  return ids;
}

export interface EtcdSessionStoreOptions extends SessionStoreOptions {
  /** Key prefix shared with the other etcd stores (default "lockstep/"). */
  namespace?: string;
}

export class EtcdSessionStore implements SessionStore {
  readonly #records: EtcdRecords<SessionRecord>;
  readonly #ns: string;
  readonly #nsRoot: string;
  readonly #now: () => number;
  readonly #maxOpenPerOwner: number;

  /** `client` is the caller's (it closes it). */
  constructor(client: Etcd3, options: EtcdSessionStoreOptions = {}) {
    this.#records = new EtcdRecords(client, SessionRecordSchema, 'session');
    this.#nsRoot = options.namespace ?? 'lockstep/';
    this.#ns = `${this.#nsRoot}sess/`;
    this.#now = options.now ?? Date.now;
    this.#maxOpenPerOwner = defaultMaxOpenSessions(options);
  }

  async create(s: NewSession): Promise<SessionRecord> {
    const record = newSessionRecord(s, this.#now());
    const recKey = this.#recKey(record.id);
    const ownerKey = this.#ownerKey(record.owner);
    const json = JSON.stringify(record);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const owner = await this.#records.raw(ownerKey);
      requireQuota(record.owner, await this.countOpenByOwner(record.owner), this.#maxOpenPerOwner);
      const done = await this.#records.commit((c) =>
        c
          .if(recKey, 'Create', '==', 0)
          .and(ownerKey, 'Mod', '==', owner.rev)
          .then(
            c.put(recKey).value(json),
            c.put(this.#openKey(record.owner, record.id)).value(json),
            c.put(ownerKey).value(String(Number(owner.value ?? '0') + 1)),
          ),
      );
      if (done) return record;
      if (await this.#records.get(recKey)) {
        throw new ConflictError(`session ${record.id} already exists`, { sessionId: record.id });
      }
      // Another create of this owner committed in between: count again.
    }
    throw new DurabilityError('session create kept conflicting with concurrent writes', { sessionId: record.id });
  }

  async get(id: string): Promise<SessionRecord | null> {
    return (await this.#records.get(this.#recKey(id)))?.value ?? null;
  }

  async list(): Promise<SessionRecord[]> {
    return (await this.#records.prefix(openSessionsPrefix(this.#nsRoot))).map((r) => r.value).sort(byCreation);
  }

  async listByOwner(owner: string): Promise<SessionRecord[]> {
    return (await this.#records.prefix(this.#ownerOpenPrefix(owner))).map((r) => r.value).sort(byCreation);
  }

  countOpenByOwner(owner: string): Promise<number> {
    return this.#records.count(this.#ownerOpenPrefix(owner));
  }

  async close(id: string, closedAt: number = this.#now()): Promise<SessionRecord> {
    const recKey = this.#recKey(id);
    for (let attempt = 0; attempt < MAX_CAS_ATTEMPTS; attempt++) {
      const current = await this.#records.get(recKey);
      if (!current) throw new NotFoundError(`session ${id} does not exist`, { sessionId: id });
      if (current.value.closedAt !== null) return current.value;
      const closed: SessionRecord = { ...current.value, closedAt };
      const done = await this.#records.commit((c) =>
        c
          .if(recKey, 'Mod', '==', current.rev)
          .then(
            c.put(recKey).value(JSON.stringify(closed)),
            c.delete().key(this.#openKey(closed.owner, id)),
            c.put(closedSessionKey(this.#nsRoot, id)).value(String(closedAt)),
          ),
      );
      if (done) return closed;
    }
    throw new DurabilityError('session close kept conflicting with concurrent writes', { sessionId: id });
  }

  #recKey(id: string): string {
    return `${sessionRecordsPrefix(this.#nsRoot)}${enc(id)}`;
  }

  #ownerKey(owner: string): string {
    return `${this.#ns}owner/${enc(owner)}`;
  }

  #ownerOpenPrefix(owner: string): string {
    return `${this.#ns}open/${enc(owner)}/`;
  }

  #openKey(owner: string, id: string): string {
    return `${this.#ownerOpenPrefix(owner)}${enc(id)}`;
  }
}
