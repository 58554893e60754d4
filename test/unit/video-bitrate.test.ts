// The sender's bandwidth-estimate floor (render/video-producer.ts): wrtc paces
// packets at 2.5x its estimate, so the floor bounds how long a keystroke's
// frame takes to leave. The codec parameters mediasoup-client writes for it.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { loadRenderConfig } from '../../render/config.js';
import { bitrateCodecOptions } from '../../render/video-producer.js';

test('a floor sets the estimate minimum and starts there, never above the ceiling', () => {
  assert.deepEqual(bitrateCodecOptions(2_500_000, 2_500_000), {
    videoGoogleStartBitrate: 2500,
    videoGoogleMinBitrate: 2500,
  });
  assert.deepEqual(bitrateCodecOptions(1_000_000, 4_000_000), {
    videoGoogleStartBitrate: 1500,
    videoGoogleMinBitrate: 1000,
  });
});

test('no floor (or 0) keeps wrtc its own estimate from the old 1.5 Mbit/s start', () => {
  assert.deepEqual(bitrateCodecOptions(2_500_000, undefined), { videoGoogleStartBitrate: 1500 });
  assert.deepEqual(bitrateCodecOptions(2_500_000, 0), { videoGoogleStartBitrate: 1500 });
});

test('the node floors its estimate at the bitrate ceiling unless told otherwise', () => {
  const saved = process.env.LOCKSTEP_MIN_BITRATE;
  try {
    delete process.env.LOCKSTEP_MIN_BITRATE;
    const config = loadRenderConfig();
    assert.equal(config.minBitrate, config.maxBitrate);
    process.env.LOCKSTEP_MIN_BITRATE = '0';
    assert.equal(loadRenderConfig().minBitrate, 0);
  } finally {
    if (saved === undefined) delete process.env.LOCKSTEP_MIN_BITRATE;
    else process.env.LOCKSTEP_MIN_BITRATE = saved;
  }
});
