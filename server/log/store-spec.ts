// `--store` / LOCKSTEP_STORE: which durable input log the server uses.
//   sqlite            the embedded default: <data dir>/lockstep.sqlite
//   sqlite:PATH       another SQLite file
//   etcd:URL,URL,...  an etcd cluster's client URLs (http:// or https://)
// Pure, so the CLI can refuse a bad value before anything starts.

export type StoreSpec = { kind: 'sqlite'; path: string | undefined } | { kind: 'etcd'; hosts: string[] };

export function parseStoreSpec(text: string): StoreSpec {
  const value = text.trim();
  if (value === 'sqlite') return { kind: 'sqlite', path: undefined };
  if (value.startsWith('sqlite:')) {
    const path = value.slice('sqlite:'.length);
    if (path === '') throw new Error('--store sqlite:PATH needs a file path');
    return { kind: 'sqlite', path };
  }
  if (value.startsWith('etcd:')) {
    const hosts = value
      .slice('etcd:'.length)
      .split(',')
      .map((h) => h.trim())
      .filter((h) => h !== '');
    if (hosts.length === 0) throw new Error('--store etcd:URL,URL,URL needs at least one etcd client URL');
    for (const h of hosts) {
      let url: URL;
      try {
        url = new URL(h);
      } catch {
        throw new Error(`--store etcd: "${h}" is not a URL (expected http://host:2379)`);
      }
      if ((url.protocol !== 'http:' && url.protocol !== 'https:') || url.pathname !== '/' || url.search !== '') {
        throw new Error(`--store etcd: "${h}" must be http(s)://host:port`);
      }
    }
    return { kind: 'etcd', hosts };
  }
  throw new Error(`--store must be sqlite, sqlite:PATH or etcd:URL,URL,URL, got "${text}"`);
}
