// Writes a writer session and its input log straight into the database a
// server will open (in batches, as the sequencer would), for tests that need a
// long log or a file to damage without typing it through a server first.
import { join } from 'node:path';
import type { InputEvent } from '../../protocol/input.js';
import { appContentHash } from '../../render/app-catalog.js';
import { openDatabase } from '../../server/database.js';
import { SqliteSessionStore } from '../../server/sqlite-session-store.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';

export async function seedSession(
  dataDir: string,
  opts: { id: string; width: number; height: number; events: readonly InputEvent[] },
): Promise<string> {
  const file = join(dataDir, 'lockstep.sqlite');
  const db = openDatabase(file);
  try {
    await SqliteSessionStore.open(db).create({
      id: opts.id,
      owner: 'local',
      app: { name: 'writer', hash: appContentHash('writer') },
      replicationFactor: 2,
      width: opts.width,
      height: opts.height,
    });
    const log = SqliteInputLog.open(db);
    for (let base = 0; base < opts.events.length; base += 1000) {
      await log.appendBatch(
        opts.events.slice(base, base + 1000).map((event, i) => ({
          sessionId: opts.id,
          clientId: 'loader',
          clientSeq: base + i,
          time: 1_700_000_000_000 + base + i,
          event,
        })),
      );
    }
    await log.close();
  } finally {
    db.close();
  }
  return file;
}
