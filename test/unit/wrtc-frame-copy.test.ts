// The renderer keeps one I420 buffer per replica and rewrites its damaged rows
// in place for the next frame (render/frame-renderer.ts), and the keepalive
// pushes the same buffer again. That is safe only if wrtc's RTCVideoSource
// onFrame copies the pixels before it returns: checked here with a real wrtc
// source and sink (the sink receives frames on wrtc's own thread, after the
// buffer has already been overwritten). It runs in a child process that ends
// itself with SIGKILL once it has printed what the sink saw: wrtc segfaults
// now and then when a process holding a stopped sink exits (the renderer has
// no sink, so it is not on the product path).
import { strict as assert } from 'node:assert';
import { spawn } from 'node:child_process';
import { test } from 'node:test';

const CHILD = `
import wrtc from '@roamhq/wrtc';
const width = 64, height = 32, ySize = width * height;
const source = new wrtc.nonstandard.RTCVideoSource();
const track = source.createTrack();
const sink = new wrtc.nonstandard.RTCVideoSink(track);
const got = [];
sink.onframe = ({ frame }) => {
  got.push([frame.data[0], frame.data[ySize - 1], frame.data[ySize + 1], frame.data.length]);
  if (got.length === 2) {
    process.stdout.write(JSON.stringify(got) + '\\n', () => process.kill(process.pid, 'SIGKILL'));
  }
};
const buf = new Uint8Array((ySize * 3) / 2);
for (const luma of [40, 200]) {
  buf.fill(luma, 0, ySize);
  buf.fill(128, ySize);
  source.onFrame({ width, height, data: buf });
  // What the renderer does next: the same buffer, rewritten for the following frame.
  buf.fill(0);
}
setTimeout(() => { process.stdout.write('timeout\\n', () => process.kill(process.pid, 'SIGKILL')); }, 5000);
`;

function runChild(): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--input-type=module', '-e', CHILD], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', () => resolve(out.trim()));
  });
}

test('RTCVideoSource.onFrame copies the buffer: overwriting it right after does not change the frame sent', async () => {
  const out = await runChild();
  const got = JSON.parse(out) as number[][];
  const size = (64 * 32 * 3) / 2;
  assert.deepEqual(got, [
    [40, 40, 128, size],
    [200, 200, 128, size],
  ]);
});
