// The renderer node's notification parser (render/renderer-node.ts) against
// thousands of random and hostile values: it drops what is malformed and never throws.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseNodeNotification } from '../../render/renderer-node.js';
import { exoticValues, randomValue, hostileNodeNotifications, seededRandom } from '../helpers/fuzz-values.js';

test('parseNodeNotification never throws and drops malformed notifications', () => {
  const rnd = seededRandom(0x5eed);
  let accepted = 0;
  const values: unknown[] = [...hostileNodeNotifications()];
  for (let i = 0; i < 5000; i++) values.push(randomValue(rnd, 0));
  // Exotic values a JSON socket cannot even carry: still no throw.
  values.push(...exoticValues('type'));
  for (const v of values) {
    const parsed = parseNodeNotification(v);
    if (parsed) {
      accepted++;
      assert.equal(typeof parsed.type, 'string');
    }
  }
  // The hostile list holds a few valid-shaped ones; random values are essentially never valid.
  assert.ok(accepted < 50, `accepted ${accepted}`);
});
