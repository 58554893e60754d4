// The viewer's client id and clientSeq counter, persisted in localStorage per
// session so a reload keeps its identity (the server dedupes resends by
// (clientId, clientSeq)). A Web Lock keeps two tabs from sharing one id: the
// second tab gets a fresh id instead of colliding sequence numbers.

import type { PersistedInput } from './input-sender.js';

export interface ClientIdentity {
  readonly clientId: string;
  loadSeq(): number;
  saveSeq(seq: number): void;
  /** Unacknowledged inputs kept across reloads (see InputSender). */
  loadPending(): PersistedInput[];
  savePending(items: PersistedInput[]): void;
  /** Lets another tab take this id over (on leaving the session). */
  release(): void;
}

interface StoredIdentity {
  clientId: string;
  clientSeq: number;
}

const ID_PATTERN = /^[A-Za-z0-9_.:-]{1,64}$/;

function storageKey(sessionId: string, clientId?: string): string {
  return clientId === undefined ? `lockstep.client.${sessionId}` : `lockstep.client.${sessionId}.${clientId}`;
}

export function randomClientId(): string {
  // getRandomValues works outside secure contexts too (randomUUID does not).
  const bytes = new Uint8Array(12);
  crypto.getRandomValues(bytes);
  return `v-${Array.from(bytes, (b) => b.toString(16).padStart(2, '0')).join('')}`;
}

function readStored(key: string): StoredIdentity | null {
  try {
    const raw = localStorage.getItem(key);
    if (!raw) return null;
    const v = JSON.parse(raw) as Partial<StoredIdentity>;
    if (typeof v.clientId !== 'string' || !ID_PATTERN.test(v.clientId)) return null;
    const seq =
      typeof v.clientSeq === 'number' && Number.isSafeInteger(v.clientSeq) && v.clientSeq >= 0 ? v.clientSeq : 0;
    return { clientId: v.clientId, clientSeq: seq };
  } catch {
    return null; // storage disabled or corrupt: a fresh id is fine
  }
}

function writeStored(key: string, v: StoredIdentity): void {
  try {
    localStorage.setItem(key, JSON.stringify(v));
  } catch {
    // Private mode / quota: the counter still lives in memory; the join
    // result's lastClientSeq reseeds it after a reload.
  }
}

/** Tries to hold an exclusive lock for the tab's lifetime; resolves to a release function or null. */
async function tryLock(name: string): Promise<(() => void) | null> {
  const locks = typeof navigator !== 'undefined' ? navigator.locks : undefined;
  if (!locks) return () => undefined; // no Web Locks: assume single tab
  return new Promise((resolve) => {
    void locks
      .request(name, { ifAvailable: true }, (lock) => {
        if (!lock) {
          resolve(null);
          return undefined;
        }
        return new Promise<void>((release) => resolve(() => release()));
      })
      .catch(() => resolve(() => undefined));
  });
}

export async function acquireClientIdentity(sessionId: string): Promise<ClientIdentity> {
  const key = storageKey(sessionId);
  let stored = readStored(key);
  let release = stored ? await tryLock(`lockstep:${sessionId}:${stored.clientId}`) : null;
  let persistKey = key;
  if (!stored || !release) {
    const sharedTaken = stored !== null; // another tab holds the stored id
    stored = { clientId: randomClientId(), clientSeq: 0 };
    release = (await tryLock(`lockstep:${sessionId}:${stored.clientId}`)) ?? (() => undefined);
    // Don't overwrite the other tab's entry: keep ours under a side key.
    persistKey = sharedTaken ? storageKey(sessionId, stored.clientId) : key;
    writeStored(persistKey, stored);
  }
  const identity = stored;
  const unlock = release;
  return {
    clientId: identity.clientId,
    loadSeq: () => readStored(persistKey)?.clientSeq ?? identity.clientSeq,
    saveSeq: (seq: number) => {
      identity.clientSeq = seq;
      writeStored(persistKey, identity);
    },
    loadPending: () => readPending(`${persistKey}.pending`),
    savePending: (items) => {
      try {
        if (items.length === 0) localStorage.removeItem(`${persistKey}.pending`);
        else localStorage.setItem(`${persistKey}.pending`, JSON.stringify(items));
      } catch {
        // Quota or private mode: the queue still lives in memory.
      }
    },
    release: unlock,
  };
}

function readPending(key: string): PersistedInput[] {
  try {
    const raw = localStorage.getItem(key);
    const v: unknown = raw ? JSON.parse(raw) : [];
    // Shape only: the server validates every event again.
    return Array.isArray(v)
      ? v.filter(
          (p): p is PersistedInput =>
            typeof p === 'object' &&
            p !== null &&
            Number.isSafeInteger((p as PersistedInput).clientSeq) &&
            typeof (p as PersistedInput).event === 'object',
        )
      : [];
  } catch {
    return [];
  }
}
