// Inputs for unwatched replicas go out in batches; watched ones at once, after
// anything held for them (server/standby-inputs.ts).
import { strict as assert } from 'node:assert';
import { describe, it } from 'node:test';
import { StandbyInputs } from '../../server/standby-inputs.js';
import { sequenceEvents } from '../helpers/app-driver.js';

const LOG = sequenceEvents(Array.from({ length: 20 }, () => ({ type: 'paste' as const, text: 'x' })));
/** Log entries from..to (seq from 1). */
const inputs = (from: number, to: number) => LOG.slice(from - 1, to);

/** A batcher with a hand-driven timer; `sent` records every notification as node/replica: seqs. */
function rig(opts: { holdMs?: number; maxHeld?: number } = {}) {
  const sent: string[] = [];
  const timers: Array<{ fn: () => void; ms: number; cleared: boolean }> = [];
  const batcher = new StandbyInputs({
    holdMs: opts.holdMs ?? 250,
    maxHeld: opts.maxHeld ?? 100,
    send: (nodeId, replicaId, ins) => sent.push(`${nodeId}/${replicaId}: ${ins.map((i) => i.seq).join(',')}`),
    setTimer: (fn, ms) => {
      const t = { fn, ms, cleared: false };
      timers.push(t);
      return t;
    },
    clearTimer: (h) => {
      (h as { cleared: boolean }).cleared = true;
    },
  });
  const fire = () => {
    const due = timers.filter((t) => !t.cleared);
    timers.length = 0;
    for (const t of due) t.fn();
  };
  return { batcher, sent, timers, fire };
}

describe('standby inputs', () => {
  it('sends inputs for a watched replica at once, and holds a standby\u2019s until the timer', () => {
    const { batcher, sent, timers, fire } = rig();
    batcher.send('n1', 'live', inputs(1, 1), true);
    batcher.send('n2', 'standby', inputs(1, 1), false);
    batcher.send('n1', 'live', inputs(2, 3), true);
    batcher.send('n2', 'standby', inputs(2, 3), false);
    assert.deepEqual(sent, ['n1/live: 1', 'n1/live: 2,3']);
    assert.equal(batcher.heldCount('standby'), 3);
    assert.equal(batcher.firstHeldSeq('standby'), 1, 'everything below it was sent');
    assert.equal(batcher.firstHeldSeq('live'), undefined);
    assert.equal(timers.length, 1, 'one timer for the batch, not one per input');
    assert.equal(timers[0]?.ms, 250);
    fire();
    assert.deepEqual(sent.slice(2), ['n2/standby: 1,2,3']);
    assert.equal(batcher.heldCount('standby'), 0);
    assert.equal(batcher.firstHeldSeq('standby'), undefined);
    fire();
    assert.equal(sent.length, 3, 'nothing is sent twice');
  });

  it('a standby that becomes watched gets what is held first, then the rest at once, in seq order', () => {
    const { batcher, sent } = rig();
    batcher.send('n2', 'r', inputs(1, 2), false);
    batcher.flush('r'); // the server learnt a viewer resumed it
    batcher.send('n2', 'r', inputs(3, 3), true);
    assert.deepEqual(sent, ['n2/r: 1,2', 'n2/r: 3']);
    // Watched inputs flush anything still held for the replica before them (no reordering).
    batcher.send('n2', 'q', inputs(1, 1), false);
    batcher.send('n2', 'q', inputs(2, 2), true);
    assert.deepEqual(sent.slice(2), ['n2/q: 1', 'n2/q: 2']);
  });

  it('never holds more than maxHeld for one replica (the node refuses larger notifications)', () => {
    const { batcher, sent } = rig({ maxHeld: 5 });
    batcher.send('n', 'r', inputs(1, 3), false);
    batcher.send('n', 'r', inputs(4, 6), false); // 3 + 3 > 5: the first three go before these are held
    assert.deepEqual(sent, ['n/r: 1,2,3']);
    batcher.send('n', 'r', inputs(7, 8), false); // 5 held: full, sent now
    assert.deepEqual(sent.slice(1), ['n/r: 4,5,6,7,8']);
    assert.equal(batcher.heldCount('r'), 0);
  });

  it('a replica adopted by another node gets the old connection\u2019s batch sent before new inputs are held', () => {
    const { batcher, sent, fire } = rig();
    batcher.send('old', 'r', inputs(1, 2), false);
    batcher.send('new', 'r', inputs(3, 3), false);
    assert.deepEqual(sent, ['old/r: 1,2']);
    fire();
    assert.deepEqual(sent.slice(1), ['new/r: 3']);
  });

  it('holdMs 0 sends everything at once, and close sends what is held', () => {
    const zero = rig({ holdMs: 0 });
    zero.batcher.send('n', 'r', inputs(1, 1), false);
    assert.deepEqual(zero.sent, ['n/r: 1']);
    assert.equal(zero.timers.length, 0);
    const { batcher, sent, timers } = rig();
    batcher.send('n', 'r', inputs(1, 2), false);
    batcher.close();
    assert.deepEqual(sent, ['n/r: 1,2']);
    assert.equal(timers[0]?.cleared, true);
  });
});
