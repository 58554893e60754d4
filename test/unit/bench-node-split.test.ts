// The latency bench's node-side split (bench/lib/node-split.ts): each stage of
// a keystroke comes from the shown replica's trace records, set on the page's
// clock, and the encoder's counters are differenced over the typing window.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { nodeSplit } from '../../bench/lib/node-split.js';
import type { FrameTraceRecord } from '../../render/frame-trace.js';
import type { LatencySample } from '../../viewer/lockstep-hook.js';

const ORIGIN = 1_000_000;

const sample = (seq: number, sentAt: number, receivedAt: number): LatencySample => ({
  seq,
  sentAt,
  ackedAt: sentAt + 3,
  shownAt: receivedAt + 5,
  receivedAt,
  replicaId: 'r1',
});

const frame = (seq: number, dirtyAt: number): FrameTraceRecord => ({
  kind: 'frame',
  replicaId: 'r1',
  seq,
  dirtyAt,
  startedAt: dirtyAt + 2,
  renderedAt: dirtyAt + 10,
  pushedAt: dirtyAt + 11,
});

const encoder = (
  at: number,
  frames: number,
  encodeMs: number,
  packets: number,
  delayMs: number,
  bytes = 0,
  keyFrames = 1,
  estimate = 0,
) =>
  ({
    kind: 'encoder',
    replicaId: 'r1',
    at,
    framesPushed: frames,
    sourceFrames: frames,
    framesEncoded: frames,
    keyFramesEncoded: keyFrames,
    totalEncodeTimeMs: encodeMs,
    packetsSent: packets,
    totalPacketSendDelayMs: delayMs,
    qualityLimitationReason: 'none',
    targetBitrate: 0,
    qpSum: 0,
    bytesSent: bytes,
    availableOutgoingBitrate: estimate,
  }) satisfies FrameTraceRecord;

test('each stage of a keystroke comes from the first input batch and the first frame at or after its seq', () => {
  const records: FrameTraceRecord[] = [
    encoder(ORIGIN + 50, 10, 30, 40, 80, 20_000, 1, 3_000_000),
    // seq 1 arrives 8 ms after it was sent, applies in 1 ms, its frame is in the page 20 ms after the push
    { kind: 'inputs', replicaId: 'r1', seq: 1, at: ORIGIN + 108 },
    frame(1, ORIGIN + 109),
    // seqs 2-3 in one batch; the frame shows both
    { kind: 'inputs', replicaId: 'r1', seq: 3, at: ORIGIN + 212 },
    frame(3, ORIGIN + 213),
    // another replica's records are ignored
    { kind: 'inputs', replicaId: 'r2', seq: 3, at: ORIGIN + 150 },
    encoder(ORIGIN + 400, 12, 36, 50, 100, 26_000, 2, 2_600_000),
  ];
  const out = nodeSplit([sample(1, 100, 140), sample(2, 200, 248)], records, ORIGIN);
  assert.equal(out['node.viewerToNodeP50'], 8);
  assert.equal(out['node.viewerToNodeP95'], 12);
  assert.equal(out['node.applyP50'], 1);
  assert.equal(out['node.waitToRenderP50'], 2);
  assert.equal(out['node.renderReadbackI420P50'], 8);
  assert.equal(out['node.handOffP50'], 1);
  assert.equal(out['node.encodeToPacketsInP50'], 20);
  assert.equal(out['node.encodeToPacketsInP95'], 24);
  assert.equal(out['encoder.framesEncoded'], 2);
  assert.equal(out['encoder.encodeMsPerFrame'], 3);
  assert.equal(out['encoder.pacerMsPerPacket'], 2);
  // 6000 bytes and 10 packets over 2 frames, one of them a key frame; the estimate at the run's end
  assert.equal(out['encoder.bytesPerFrame'], 3000);
  assert.equal(out['encoder.packetsPerFrame'], 5);
  assert.equal(out['encoder.keyFramesEncoded'], 1);
  assert.equal(out['encoder.availableOutgoingKbps'], 2600);
});

test('no trace, no figures', () => {
  assert.deepEqual(nodeSplit([sample(1, 100, 140)], [], ORIGIN), {});
});

test('the slow keystrokes are matched with the thumbnails and garbage collections they met', () => {
  // Ten keystrokes of 30 ms, one of them 90 ms: it met a thumbnail on some node; a 1 ms GC does not count.
  const samples = Array.from({ length: 10 }, (_, i) => sample(i + 1, i * 100, i * 100 + (i === 6 ? 85 : 25)));
  const busy = (what: 'thumbnail' | 'gc', from: number, to: number): FrameTraceRecord => ({
    kind: 'busy',
    what,
    node: 'lat-host-2',
    replicaId: null,
    startedAt: ORIGIN + from,
    endedAt: ORIGIN + to,
  });
  const out = nodeSplit(samples, [busy('thumbnail', 610, 640), busy('gc', 210, 211)], ORIGIN);
  assert.equal(out['tail.thumbnail.shareOfSlowest10pc'], 1);
  assert.equal(out['tail.thumbnail.shareOfAll'], 0.1);
  assert.equal(out['tail.thumbnail.p50With'], 90);
  assert.equal(out['tail.thumbnail.p50Without'], 30);
  assert.equal(out['tail.gc.shareOfAll'], 0);
});
