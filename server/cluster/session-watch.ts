// Every server learns the sessions any server creates or closes: it follows
// the open-session records the etcd session store keeps (a record is there
// from create until close, which deletes it in the same transaction). A record
// that does not parse is logged and ignored.
import { getLogger } from '../../protocol/logger.js';
import { TypedEmitter } from '../../protocol/typed-emitter.js';
import { byCreation, type SessionRecord } from '../session-store.js';
import { openSessionsPrefix, SessionRecordSchema } from '../store/etcd-session-store.js';
import { PrefixFollower } from './prefix-follower.js';
import type { SessionWatchEvents, SessionWatchOptions } from './session-watch-types.js';

const log = getLogger('session-watch');

function openRecord(key: string, raw: string): SessionRecord | null {
  let json: unknown;
  try {
    json = JSON.parse(raw);
  } catch {
    json = undefined;
  }
  const parsed = SessionRecordSchema.safeParse(json);
  const row = parsed.success ? parsed.data : null;
  // The key is <owner>/<id>: a record filed under another session's key is not that session.
  if (!row || !key.endsWith(`/${encodeURIComponent(row.owner)}/${encodeURIComponent(row.id)}`)) {
    log.warn({ key }, 'open-session record does not parse or is under another key: ignored');
    return null;
  }
  return row;
}

export class SessionWatch extends TypedEmitter<SessionWatchEvents> {
  readonly #follower: PrefixFollower<SessionRecord>;

  private constructor(follower: PrefixFollower<SessionRecord>) {
    super();
    this.#follower = follower;
    follower.on('put', (_key, row, previous) => {
      if (!previous) this.emit('created', row);
    });
    follower.on('delete', (_key, row) => this.emit('closed', row.id));
  }

  /** Resolves with the open sessions listed (list()); events follow for changes after that. */
  static async create(options: SessionWatchOptions): Promise<SessionWatch> {
    const follower = await PrefixFollower.create({
      client: options.client,
      prefix: openSessionsPrefix(options.namespace),
      what: 'session',
      open: openRecord,
    });
    return new SessionWatch(follower);
  }

  /** The open sessions of the cluster, oldest first. */
  list(): SessionRecord[] {
    return [...this.#follower.entries().values()].sort(byCreation);
  }

  get(sessionId: string): SessionRecord | null {
    return this.list().find((r) => r.id === sessionId) ?? null;
  }

  close(): Promise<void> {
    return this.#follower.close();
  }
}
