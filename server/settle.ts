// better-sqlite3 is synchronous while the store interfaces are asynchronous (a
// replicated store is a network round trip): the SQLite implementations run
// their work now and hand back its result or throw as a settled promise.
export function settle<T>(fn: () => T): Promise<T> {
  try {
    return Promise.resolve(fn());
  } catch (err) {
    return Promise.reject(err instanceof Error ? err : new Error(String(err)));
  }
}
