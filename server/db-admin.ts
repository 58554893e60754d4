// Offline care of a server's SQLite database (the `lockstep db` commands): in
// single-server mode it is the only copy of every session, so operators need
// to check it and to copy it safely while the server runs.
import { existsSync, mkdirSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { checkDatabase, openDatabase, type SqliteDatabase } from './database.js';
import { ConfigError, CorruptDatabaseError } from './errors.js';
import { databaseFile } from './token-admin.js';

export interface DbCheckReport {
  file: string;
  ok: boolean;
  problems: string[];
}

/** Full integrity check (every page, record and index). Never modifies the file. */
export function checkDataDir(dataDir: string): DbCheckReport {
  const file = databaseFile(dataDir);
  if (!existsSync(file)) throw new ConfigError(`no Lockstep database in ${dataDir}`);
  // Open without the start-up check: this command reports problems instead of refusing.
  let db: SqliteDatabase;
  try {
    db = openDatabase(file, { check: false, skipMigrations: true });
  } catch (err) {
    if (err instanceof CorruptDatabaseError) return { file, ok: false, problems: [err.message] };
    throw err;
  }
  try {
    const problems = checkDatabase(db, 'full');
    return { file, ok: problems.length === 0, problems };
  } finally {
    db.close();
  }
}

/**
 * SQLite's online backup into `dest` (a consistent copy even while the server
 * writes), then a full check of the copy. Refuses to overwrite an existing file.
 */
export async function backupDataDir(dataDir: string, dest: string): Promise<{ file: string; pages: number }> {
  const file = databaseFile(dataDir);
  if (!existsSync(file)) throw new ConfigError(`no Lockstep database in ${dataDir}`);
  const target = resolve(dest);
  if (existsSync(target)) throw new ConfigError(`${target} exists; choose a new file for the backup`);
  mkdirSync(dirname(target), { recursive: true });
  const db = openDatabase(file, { skipMigrations: true });
  let pages = 0;
  try {
    const r = await db.backup(target);
    pages = r.totalPages;
  } finally {
    db.close();
  }
  const copy = openDatabase(target, { check: false, skipMigrations: true });
  try {
    const problems = checkDatabase(copy, 'full');
    if (problems.length > 0) throw new ConfigError(`the backup at ${target} failed its check: ${problems.join('; ')}`);
  } finally {
    copy.close();
  }
  return { file: target, pages };
}
