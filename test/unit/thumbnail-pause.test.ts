// Thumbnails wait for a pause in typing (render/thumbnailer.ts): a replica
// whose state changed since the previous tick gets none, unless its last one
// is older than maxStaleMs. A real writer replica, a fake clock, mocked ticks.
import { strict as assert } from 'node:assert';
import { mock, test } from 'node:test';
import { keyEvent, sequenced } from '../../bench/lib/writer-inputs.js';
import { Thumbnailer } from '../../render/thumbnailer.js';
import { waitFor } from '../../scripts/lib/wait-for.js';
import { smallWriterReplica } from '../helpers/writer-replica.js';

test('no thumbnail while the state moves from tick to tick, one at the first still tick, one when stale', async () => {
  const replica = await smallWriterReplica('s-thumb');
  mock.timers.enable({ apis: ['setInterval'] });
  let clock = 0;
  const sent: number[] = [];
  const thumbs = new Thumbnailer({
    send: (_id, jpeg) => {
      assert.ok(jpeg.length > 0);
      sent.push(clock);
      return Promise.resolve({ wanted: true });
    },
    active: () => true,
    intervalMs: 1000,
    maxStaleMs: 5000,
    now: () => clock,
  });
  let seq = 0;
  const typeKey = async () => {
    replica.receive([sequenced(++seq, keyEvent(seq))]);
    await waitFor('key applied', () => replica.appliedSeq === seq, 2000, 5);
  };
  const tick = async (expectSent: number) => {
    clock += 1000;
    mock.timers.tick(1000);
    if (expectSent > sent.length) await waitFor(`thumbnail ${expectSent}`, () => sent.length >= expectSent, 5000, 5);
    else await new Promise((r) => setTimeout(r, 50)); // time enough for an encode that should not happen
    assert.equal(sent.length, expectSent, `thumbnails sent at ${sent.join(', ')} (clock ${clock})`);
  };
  try {
    thumbs.track(replica);
    await tick(1); // the first one at once
    await typeKey();
    await tick(1); // typing: waits
    await typeKey();
    await tick(1);
    await tick(2); // a still tick: made now
    for (let i = 0; i < 4; i++) {
      await typeKey();
      await tick(2);
    }
    await typeKey();
    await tick(3); // typing for 5 s without a pause: stale, made anyway
  } finally {
    thumbs.close();
    mock.timers.reset();
    replica.close();
  }
});
