// A key release the app does not read, refused by one cluster server, and the
// viewer's next key sent to another: the viewer's InputSender against two real
// Sequencers (contiguous, `wanted` as the servers run them) over one SQLite log,
// their refusals mapped to the wire as the server's dispatcher does. The hole
// the refusal left is only the first server's memory; the second called every
// later input "skips ahead; expected N" for good (until a reload), so the
// viewer's typing was held forever. The viewer now sends the refused input
// again to the new route, whose refusal teaches it the hole.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { wantsInput } from '../../protocol/app-inputs.js';
import { NO_MODS, type InputEvent } from '../../protocol/input.js';
import { getLogger } from '../../protocol/logger.js';
import type { InputAck } from '../../protocol/signalling.js';
import { errorReply } from '../../server/request-dispatch.js';
import { Sequencer } from '../../server/sequencer.js';
import { SqliteInputLog } from '../../server/sqlite-input-log.js';
import { InputSender, type InputRequest } from '../../viewer/input-sender.js';
import { ViewerRequestError } from '../../viewer/request-error.js';
import { fakeTimers } from '../helpers/fake-timers.js';
import { makeTmpDir } from '../helpers/tmpdir.js';

const key = (action: 'down' | 'up', ch: string): InputEvent => ({
  type: 'key',
  action,
  key: ch,
  code: `Key${ch.toUpperCase()}`,
  text: ch,
  mods: NO_MODS,
});
const turns = async (n = 5): Promise<void> => {
  for (let i = 0; i < n; i++) await new Promise((r) => setImmediate(r));
};

for (const how of ['the route moves with nothing in flight', 'the route moves with an input in flight'] as const) {
  test(`a hole one server remembers does not hold the viewer's inputs on another (${how})`, async (t) => {
    const log = SqliteInputLog.openFile(join(makeTmpDir(t), 'lockstep.sqlite'));
    const servers = ['a', 'b'].map(
      () =>
        new Sequencer({
          log,
          contiguous: true,
          sessionExists: () => true,
          wanted: (_sessionId, event) => wantsInput({ keyUps: false }, event),
        }),
    );
    t.after(async () => {
      for (const s of servers) await s.close();
      await log.close();
    });
    let route = 0;
    const wire = getLogger('test');
    const transmit = async (req: InputRequest): Promise<InputAck> => {
      const sequencer = servers[route];
      assert.ok(sequencer);
      try {
        const r = await sequencer.submit({ sessionId: 's', clientId: 'c', clientSeq: req.clientSeq, event: req.event });
        return { seq: r.input.seq, duplicate: r.duplicate };
      } catch (err) {
        const res = errorReply(err, wire, 'input');
        if (res.ok) throw new Error('not a refusal');
        throw new ViewerRequestError(res.error.code, res.error.message, res.error.details);
      }
    };
    const clock = fakeTimers();
    let saved = -1;
    const sender = new InputSender({
      sessionId: 's',
      transmit,
      loadSeq: () => saved,
      saveSeq: (s) => (saved = s),
      now: () => clock.now,
      schedule: clock.schedule,
    });
    const acked: string[] = [];
    sender.on('acked', (a) => acked.push(a.event.type === 'key' ? a.event.key : a.event.type));
    sender.resync(-1);

    sender.send(key('down', 'a'));
    await turns();
    sender.send(key('up', 'a')); // an old viewer's, or one queued before the session's info arrived
    await turns();
    assert.deepEqual(acked, ['a']);

    route = 1; // server a is gone; b takes the route
    if (how === 'the route moves with nothing in flight') {
      sender.resendInFlight();
      sender.send(key('down', 'b'));
    } else {
      sender.send(key('down', 'b'));
      sender.resendInFlight();
    }
    for (let i = 0; i < 60 && !acked.includes('b'); i++) {
      await turns();
      clock.advance(250);
    }
    assert.deepEqual(acked, ['a', 'b'], 'the key after the hole is logged through the new route');
    const stored = await log.read('s', 1, 100, 100);
    assert.deepEqual(
      stored.map((i) => [i.clientSeq, i.event.type === 'key' ? `${i.event.key} ${i.event.action}` : i.event.type]),
      [
        [0, 'a down'],
        [2, 'b down'],
      ],
      'and the key release is still not logged',
    );
  });
}
