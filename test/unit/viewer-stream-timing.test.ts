import { test } from 'node:test';
import assert from 'node:assert/strict';
import { FrameTimeline } from '../../viewer/frame-timeline.js';
import { HeadTracker } from '../../viewer/head-tracker.js';
import { rtcHealth, sampleRtcStats } from '../../viewer/rtc-stats.js';
import { parseViewerParams, sessionHref } from '../../viewer/url-params.js';

test('frame timeline: fps over the last second, freezes, first-shown time per seq', () => {
  const t = new FrameTimeline();
  for (let at = 0; at <= 2000; at += 40) t.onFrame(at);
  assert.equal(t.fps(2000), 25);
  t.onFrame(3000); // a 1 s gap
  assert.equal(t.recentFreezes(3000), 1);
  assert.equal(t.recentFreezes(20_000), 0, 'freezes age out');
  t.onSeq(5, 100);
  t.onSeq(5, 140);
  t.onSeq(9, 300);
  assert.equal(t.firstShownAt(5), 100);
  assert.equal(t.firstShownAt(6), 300);
  assert.equal(t.firstShownAt(10), null);
  assert.equal(t.lastSeq, 9);
});

test('frame timeline: the first frame of a seq keeps its presentation times', () => {
  const t = new FrameTimeline();
  t.onSeq(3, 50, { receivedAt: 40, presentedAt: 45, expectedDisplayAt: 60 });
  t.onSeq(3, 90, { receivedAt: 80, presentedAt: 85, expectedDisplayAt: 100 }); // a repeat of seq 3
  t.onSeq(7, 120);
  assert.deepEqual(t.firstShown(2), { seq: 3, at: 50, receivedAt: 40, presentedAt: 45, expectedDisplayAt: 60 });
  assert.deepEqual(t.firstShown(7), { seq: 7, at: 120 });
  assert.equal(t.firstShown(8), null);
});

test('frame timeline: a resume is not a freeze', () => {
  const t = new FrameTimeline();
  t.onFrame(0);
  t.markResumed();
  t.onFrame(10_000);
  assert.equal(t.recentFreezes(10_000), 0);
});

test('head tracker: a stream is behind since the oldest missing seq became known', () => {
  const h = new HeadTracker();
  h.note(3, 100);
  h.note(4, 200);
  h.note(5, 150); // acked later but sent earlier
  assert.equal(h.head, 5);
  assert.equal(h.behindForMs(5, 1000), 0);
  assert.equal(h.behindForMs(4, 1000), 850);
  assert.equal(h.behindForMs(2, 1000), 900);
  assert.equal(h.behindForMs(null, 1000), 0);
});

test('head tracker: a picture-neutral input (own key-up) makes no stream behind; the next input does', () => {
  const h = new HeadTracker();
  h.note(1, 100); // key-down
  h.note(2, 101, true); // its key-up
  assert.equal(h.head, 2);
  // A stream showing the key-down is not behind, however long the key-up waits for a frame of its own.
  assert.equal(h.behindForMs(1, 5000), 0);
  assert.equal(h.knownSince(2), null);
  h.note(3, 200); // the next key-down
  assert.equal(h.behindForMs(1, 1000), 800);
  assert.equal(h.behindForMs(0, 1000), 900);
  // A session head that named seq 4 first does not undo the ack's word that it is neutral, nor the reverse.
  h.note(4, 300);
  h.note(4, 320, true);
  h.note(5, 400, true);
  h.note(5, 380);
  assert.equal(h.behindForMs(3, 1000), 0);
});

test('rtc stats: loss over the interval and RTT', () => {
  const report = (recv: number, lost: number) => [
    { type: 'inbound-rtp', kind: 'video', packetsReceived: recv, packetsLost: lost },
    { type: 'candidate-pair', nominated: true, state: 'succeeded', currentRoundTripTime: 0.042 },
  ];
  const a = sampleRtcStats(report(1000, 10));
  const b = sampleRtcStats(report(1090, 20));
  assert.deepEqual(rtcHealth(null, a), { packetLoss: null, rttMs: 42 });
  assert.deepEqual(rtcHealth(a, b), { packetLoss: 0.1, rttMs: 42 });
  assert.equal(sampleRtcStats([{ type: 'transport' }]), null);
});

test('url params: session from query or hash, mode, token', () => {
  assert.deepEqual(parseViewerParams('?session=abc&mode=hot&debug', ''), {
    token: null,
    sessionId: 'abc',
    mode: 'hot',
    debug: true,
    fit: false,
    stamps: 'processor',
    display: 'video',
  });
  assert.equal(parseViewerParams('?fit=1', '').fit, true);
  assert.equal(parseViewerParams('?stamps=frame', '').stamps, 'frame-callback');
  assert.equal(parseViewerParams('?stamps=frame-callback', '').stamps, 'frame-callback');
  assert.equal(parseViewerParams('?display=tiles', '').display, 'tiles');
  assert.equal(parseViewerParams('?display=bogus', '').display, 'video');
  assert.equal(parseViewerParams('?stamps=processor', '').stamps, 'processor');
  assert.equal(parseViewerParams('?stamps=bogus', '').stamps, 'processor');
  assert.equal(parseViewerParams('', '#/s/s-42').sessionId, 's-42');
  assert.equal(parseViewerParams('?session=bad id', '').sessionId, null);
  assert.equal(parseViewerParams('?mode=bogus', '').mode, 'warm');
  assert.equal(parseViewerParams('?token=', '').token, null);
  assert.equal(parseViewerParams('?token=t1', '').token, 't1');
  assert.equal(sessionHref('?token=t1&mode=hot', 'x'), '?token=t1&mode=hot&session=x');
});
