// Structured logs (pino) with one child logger per module, shared by server and
// renderer processes. LOCKSTEP_LOG_LEVEL overrides the level (default "info";
// tests set "warn"). Logs go to stderr so stdout stays free for CLI output.
import { destination, pino, type Logger } from 'pino';

const root: Logger = pino(
  {
    level: process.env.LOCKSTEP_LOG_LEVEL ?? 'info',
    base: { pid: process.pid, proc: process.env.LOCKSTEP_PROC_NAME },
  },
  destination({ fd: 2, sync: false }),
);

export function getLogger(module: string): Logger {
  return root.child({ module });
}

export type { Logger };
