// Several Lockstep servers over one etcd (cluster mode), each with its own
// data dir, named by LOCKSTEP_SERVER_ID: the start-up the cluster integration
// tests share. Processes stop with processes.ts's stopAll; dirs go in `after`.
import assert from 'node:assert/strict';
import { after } from 'node:test';
import { startServer, type ServerProc } from './processes.js';
import { makeTmpDir } from './tmpdir.js';

export interface ClusterServers {
  /** By server id, in start order. */
  servers: Map<string, ServerProc>;
  /** The server with this id (fails the test if there is none). */
  server: (id: string) => ServerProc;
}

export async function startClusterServers(ids: string[], env: Record<string, string>): Promise<ClusterServers> {
  const hooks = { after: (fn: () => void | Promise<void>) => after(fn) };
  const servers = new Map<string, ServerProc>();
  for (const id of ids) {
    servers.set(id, await startServer({ dataDir: makeTmpDir(hooks), env: { ...env, LOCKSTEP_SERVER_ID: id } }));
  }
  return {
    servers,
    server: (id: string): ServerProc => {
      const s = servers.get(id);
      assert.ok(s, `server ${id}`);
      return s;
    },
  };
}
