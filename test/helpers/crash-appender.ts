// Child process for the crash-durability test: appends inputs through a
// Sequencer into the SQLite file given as argv[2], writing one line
// "<seq> <clientId> <clientSeq>" to stdout per acknowledged input, until the
// parent SIGKILLs it. Stdout on a pipe is synchronous on Linux, so a printed
// line is an ack the parent can hold us to.
import { NO_MODS } from '../../protocol/input.js';
import { Sequencer } from '../../server/sequencer.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';

const file = process.argv[2];
if (!file) {
  process.stderr.write('usage: crash-appender.ts <sqlite-file>\n');
  process.exit(2);
}

const SESSION = 'crash';
const CLIENTS = ['c0', 'c1', 'c2'];
const PER_ROUND = 30;
const next = new Map<string, number>(CLIENTS.map((c) => [c, 0]));

const log = SqliteInputLog.openFile(file);
const sequencer = new Sequencer({ log });

// Never outlive a parent that failed to kill us.
setTimeout(() => process.exit(3), 30_000).unref();

function round(): void {
  for (let i = 0; i < PER_ROUND; i++) {
    const clientId = CLIENTS[i % CLIENTS.length] ?? 'c0';
    const clientSeq = next.get(clientId) ?? 0;
    next.set(clientId, clientSeq + 1);
    sequencer
      .submit({
        sessionId: SESSION,
        clientId,
        clientSeq,
        event: { type: 'pointer', action: 'move', x: i, y: clientSeq % 1000, button: 0, buttons: 0, mods: NO_MODS },
      })
      .then(
        (r) => process.stdout.write(`${r.input.seq} ${clientId} ${clientSeq}\n`),
        (err: unknown) => {
          process.stderr.write(`submit failed: ${String(err)}\n`);
          process.exit(4);
        },
      );
  }
  setImmediate(round);
}

round();
