// What scripts/lib/launcher.ts hands back for each process it starts.
import type { ChildProcess } from 'node:child_process';

export interface Proc {
  name: string;
  child: ChildProcess;
  /** Resolves when the process has exited (code or signal). */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  output(): string;
  kill(signal?: NodeJS.Signals): Promise<void>;
}

export interface ServerProc extends Proc {
  url: string;
  dataDir: string;
  /** The operator owner token: the one passed in, or the one the server printed at first start. */
  ownerToken: string;
  /** The join token of one host (issued on first use, as the operator would; startNode uses it by default). */
  hostToken(hostId: string): Promise<string>;
}
