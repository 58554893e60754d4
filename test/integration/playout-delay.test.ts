// The zero playout delay, end to end on the wire (see
// test/helpers/playout-delay-probe.ts, run in its own process): every video
// packet the SFU forwards carries the playout-delay header extension with
// min = max = 0, what puts browsers on their render-as-soon-as-decoded path.
// With LOCKSTEP_ZERO_PLAYOUT_DELAY off nothing is negotiated or added.
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { describe, it } from 'node:test';
import { promisify } from 'node:util';
import { PLAYOUT_DELAY_URI } from '../../server/sfu.js';
import type { Observed } from '../helpers/playout-delay-probe.js';

const run = promisify(execFile);

async function probe(mode: 'on' | 'off'): Promise<Observed> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', 'test/helpers/playout-delay-probe.ts', mode], {
    timeout: 60_000,
    env: { ...process.env, LOCKSTEP_LOG_LEVEL: 'warn' },
  });
  const line = stdout.trim().split('\n').at(-1) ?? '';
  return JSON.parse(line) as Observed;
}

describe('playout delay: zero on every video packet the SFU forwards', () => {
  it('negotiated by the renderer, stamped min = max = 0 by the worker', async () => {
    const o = await probe('on');
    assert.ok(
      o.producerExtensionUris.includes(PLAYOUT_DELAY_URI),
      `the renderer's producer lists playout-delay (has: ${o.producerExtensionUris.join(', ')})`,
    );
    assert.ok(o.consumerExtension, 'the consumer negotiates playout-delay');
    assert.ok(o.videoPackets >= 30);
    assert.equal(o.playoutDelayValues.length, o.videoPackets, 'every video packet carries the extension');
    assert.deepEqual(new Set(o.playoutDelayValues), new Set(['000000']), 'min = 0, max = 0');
  });

  it('LOCKSTEP_ZERO_PLAYOUT_DELAY=0: not negotiated, not sent', async () => {
    const o = await probe('off');
    assert.ok(!o.producerExtensionUris.includes(PLAYOUT_DELAY_URI));
    assert.equal(o.consumerExtension, null);
    assert.ok(o.videoPackets >= 30);
    assert.equal(o.playoutDelayValues.length, 0);
  });
});
