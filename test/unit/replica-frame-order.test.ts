// The order of work in a replica (render/replica.ts): an input within the
// frame-rate cap is drawn at once, not after a timer tick, and the frame goes
// ahead of status and thumbnail work queued before it, which still runs
// within a bounded number of calls.
import { strict as assert } from 'node:assert';
import { mock, test } from 'node:test';
import { keyEvent, sequenced } from '../../bench/lib/writer-inputs.js';
import type { Replica } from '../../render/replica.js';
import { smallWriterReplica } from '../helpers/writer-replica.js';

const settle = async (turns = 20) => {
  for (let i = 0; i < turns; i++) await new Promise<void>((r) => setImmediate(r));
};

async function writerReplica(): Promise<Replica<unknown>> {
  const replica = await smallWriterReplica('s-order');
  // Past the first frame and the frame-rate cap after it (30 fps: 33 ms).
  await new Promise((r) => setTimeout(r, 60));
  await settle();
  return replica;
}

test('an input within the frame-rate cap is drawn at once, without waiting for a timer', async () => {
  const replica = await writerReplica();
  const frames: number[] = [];
  replica.on('frame', (f) => frames.push(f.seq));
  // Timers never fire now: a frame that waited for one would not come.
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    replica.receive([sequenced(1, keyEvent(0))]);
    await settle();
    assert.deepEqual(frames, [1]);
  } finally {
    mock.timers.reset();
    replica.close();
  }
});

test('the frame of an input goes ahead of status work queued before it', async () => {
  const replica = await writerReplica();
  const order: string[] = [];
  replica.on('frame', (f) => order.push(`frame ${f.seq}`));
  try {
    const status = replica.status().then((s) => order.push(`status at ${s.appliedSeq}`));
    replica.receive([sequenced(1, keyEvent(0))]);
    await status;
    await settle();
    assert.deepEqual(order, ['frame 1', 'status at 1']);
  } finally {
    replica.close();
  }
});

test('status work is not starved: at most a few calls go ahead of it', async () => {
  const replica = await writerReplica();
  const order: string[] = [];
  try {
    const status = replica.status().then(() => order.push('status'));
    const copies = Array.from({ length: 10 }, (_, i) => replica.copyText().then(() => order.push(`copy ${i}`)));
    await Promise.all([status, ...copies]);
    const at = order.indexOf('status');
    assert.ok(at >= 1 && at <= 4, `status ran after ${at} calls: ${order.join(', ')}`);
  } finally {
    replica.close();
  }
});
