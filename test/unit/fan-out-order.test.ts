// Inputs go out to the watched replicas' nodes first (server/session-core/fan-out-order.ts).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { watchedFirst } from '../../server/session-core/fan-out-order.js';
import { StreamWatchers } from '../../server/stream-watchers.js';

test('the replicas a viewer watches come first, each group keeping its order', () => {
  const watchers = new StreamWatchers();
  const replicas = ['r1', 'r2', 'r3', 'r4'].map((id) => ({ id, producerId: `p-${id}` }));
  watchers.consumerOpened('c1', 'p-r3', true);
  watchers.consumerOpened('c2', 'p-r1', false); // a warm standby: consumed paused
  const order = (rs: typeof replicas) => watchedFirst(rs, (r) => watchers.isWatched(r.producerId)).map((r) => r.id);
  assert.deepEqual(order(replicas), ['r3', 'r1', 'r2', 'r4']);
  // The viewer fails over to r1: it goes first now.
  watchers.consumerResumed('c2');
  watchers.consumerPaused('c1');
  assert.deepEqual(order(replicas), ['r1', 'r2', 'r3', 'r4']);
  watchers.consumerResumed('c1');
  assert.deepEqual(order(replicas), ['r1', 'r3', 'r2', 'r4']);
});
