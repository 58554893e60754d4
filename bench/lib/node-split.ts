// The renderer node's part of a keystroke's latency, from the nodes' frame
// traces (LOCKSTEP_TRACE_DIR, render/frame-trace.ts) set beside the page's
// samples on the same machine's clock: viewer → node (server, sequencer,
// fsync, fan-out), node → applied, applied → render starts (frame-rate cap,
// app calls queued before it), render + read-back + I420, hand-off to wrtc,
// and hand-off → the frame's last packet in the browser (encode, pacer, SFU).
// Also the encoder's own counters over the run (frames dropped before
// encoding, encode time per frame, pacer delay per packet).
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { FrameTraceRecord } from '../../render/frame-trace.js';
import type { LatencySample } from '../../viewer/lockstep-hook.js';
import { round, summarize } from './report.js';

type Frame = Extract<FrameTraceRecord, { kind: 'frame' }>;
type Encoder = Extract<FrameTraceRecord, { kind: 'encoder' }>;
type Busy = Extract<FrameTraceRecord, { kind: 'busy' }>;

export function readTraces(dir: string): FrameTraceRecord[] {
  const out: FrameTraceRecord[] = [];
  let files: string[];
  try {
    files = readdirSync(dir).filter((f) => f.endsWith('.jsonl'));
  } catch {
    return out;
  }
  for (const f of files) {
    for (const line of readFileSync(join(dir, f), 'utf8').split('\n')) {
      if (line.trim() === '') continue;
      try {
        out.push(JSON.parse(line) as FrameTraceRecord);
      } catch {
        // a line cut short by a node being stopped
      }
    }
  }
  return out;
}

/** A keystroke's node-side stages (ms), null when the shown replica's trace lacks its input or frame. */
export type NodeStages = Partial<
  Record<'viewerToNode' | 'apply' | 'waitToRender' | 'renderReadbackI420' | 'handOff' | 'encodeToPacketsIn', number>
>;

function stagesOf(
  s: LatencySample,
  inputs: ReadonlyMap<string, { seq: number; at: number }[]>,
  frames: ReadonlyMap<string, Frame[]>,
  pageOrigin: number,
): NodeStages | null {
  if (!s.replicaId) return null;
  const sent = pageOrigin + s.sentAt;
  const arrived = inputs.get(s.replicaId)?.find((i) => i.seq >= s.seq);
  const frame = frames.get(s.replicaId)?.find((f) => f.seq >= s.seq);
  if (!arrived || !frame) return null;
  return {
    viewerToNode: arrived.at - sent,
    apply: frame.dirtyAt - arrived.at,
    waitToRender: frame.startedAt - frame.dirtyAt,
    renderReadbackI420: frame.renderedAt - frame.startedAt,
    handOff: frame.pushedAt - frame.renderedAt,
    ...(s.receivedAt !== undefined ? { encodeToPacketsIn: pageOrigin + s.receivedAt - frame.pushedAt } : {}),
  };
}

/** Each sample's node-side stages from the traces (null where they lack it), in the samples' order. */
export function nodeStages(
  samples: readonly LatencySample[],
  records: readonly FrameTraceRecord[],
  pageOrigin: number,
): Array<NodeStages | null> {
  const inputs = new Map<string, { seq: number; at: number }[]>();
  const frames = new Map<string, Frame[]>();
  for (const r of records) {
    if (r.kind === 'inputs') push(inputs, r.replicaId, r);
    else if (r.kind === 'frame') push(frames, r.replicaId, r);
  }
  for (const list of frames.values()) list.sort((a, b) => a.startedAt - b.startedAt);
  return samples.map((s) => stagesOf(s, inputs, frames, pageOrigin));
}

/**
 * p50/p95 of each node-side stage over the samples, with `pageOrigin` the
 * page's performance.timeOrigin (its sample times are relative to it).
 */
export function nodeSplit(
  samples: readonly LatencySample[],
  records: readonly FrameTraceRecord[],
  pageOrigin: number,
): Record<string, number> {
  const encoder = new Map<string, Encoder[]>();
  const busy: Busy[] = [];
  for (const r of records) {
    if (r.kind === 'encoder') push(encoder, r.replicaId, r);
    else if (r.kind === 'busy') busy.push(r);
  }
  const stages: Record<string, number[]> = {
    viewerToNode: [],
    apply: [],
    waitToRender: [],
    renderReadbackI420: [],
    handOff: [],
    encodeToPacketsIn: [],
  };
  for (const one of nodeStages(samples, records, pageOrigin))
    if (one) for (const [k, v] of Object.entries(one)) stages[k]?.push(v);
  const t0 = samples.length > 0 ? Math.min(...samples.map((s) => s.sentAt)) + pageOrigin : 0;
  const t1 = samples.length > 0 ? Math.max(...samples.map((s) => s.shownAt)) + pageOrigin : 0;
  const out: Record<string, number> = {};
  Object.assign(out, tailCauses(samples, busy, pageOrigin));
  for (const [k, v] of Object.entries(stages)) {
    if (v.length === 0) continue;
    const sum = summarize(v);
    out[`node.${k}P50`] = sum.p50;
    out[`node.${k}P95`] = sum.p95;
  }
  // The shown replicas' encoders over the run: the readings that bracket it (once a second).
  const shown = new Set(samples.map((s) => s.replicaId).filter((id): id is string => id !== null));
  let pushed = 0;
  let encoded = 0;
  let encodeMs = 0;
  let packets = 0;
  let sendDelayMs = 0;
  let bytes = 0;
  let keyFrames = 0;
  const estimates: number[] = [];
  for (const id of shown) {
    const list = encoder.get(id) ?? [];
    const a = list.filter((e) => e.at <= t0).pop() ?? list.find((e) => e.at > t0);
    const b = list.find((e) => e.at >= t1) ?? list[list.length - 1];
    if (!a || !b || a === b) continue;
    pushed += b.framesPushed - a.framesPushed;
    encoded += b.framesEncoded - a.framesEncoded;
    encodeMs += b.totalEncodeTimeMs - a.totalEncodeTimeMs;
    packets += b.packetsSent - a.packetsSent;
    sendDelayMs += b.totalPacketSendDelayMs - a.totalPacketSendDelayMs;
    bytes += b.bytesSent - a.bytesSent;
    keyFrames += b.keyFramesEncoded - a.keyFramesEncoded;
    if (b.availableOutgoingBitrate > 0) estimates.push(b.availableOutgoingBitrate);
  }
  if (encoded > 0) {
    out['encoder.framesPushed'] = pushed;
    out['encoder.framesEncoded'] = encoded;
    out['encoder.encodeMsPerFrame'] = round(encodeMs / encoded, 2);
    // What the pacer has to send per frame (it sends at a multiple of the estimate): the size of the tail's job.
    out['encoder.keyFramesEncoded'] = keyFrames;
    out['encoder.bytesPerFrame'] = Math.round(bytes / encoded);
    out['encoder.packetsPerFrame'] = round(packets / encoded, 2);
  }
  if (packets > 0) out['encoder.pacerMsPerPacket'] = round(sendDelayMs / packets, 2);
  // The sender's estimate at the run's end (the lowest of the shown replicas'), in kbit/s.
  if (estimates.length > 0) out['encoder.availableOutgoingKbps'] = Math.round(Math.min(...estimates) / 1000);
  return out;
}

/**
 * Whether the slow keystrokes are the ones that met work off the frame path:
 * of the slowest tenth (keydown → shown), the share during which some node
 * was making a thumbnail or collecting garbage (≥ 2 ms), beside that share
 * among all keystrokes, and the p50 of keystrokes with and without it.
 */
function tailCauses(samples: readonly LatencySample[], busy: readonly Busy[], pageOrigin: number) {
  const out: Record<string, number> = {};
  if (samples.length < 10 || busy.length === 0) return out;
  const total = (s: LatencySample) => s.shownAt - s.sentAt;
  const slowFrom = [...samples].map(total).sort((a, b) => a - b)[Math.floor(samples.length * 0.9)] ?? Infinity;
  for (const what of ['thumbnail', 'gc'] as const) {
    const spans = busy.filter((b) => b.what === what && (what !== 'gc' || b.endedAt - b.startedAt >= 2));
    const met = (s: LatencySample) =>
      spans.some((b) => b.startedAt < pageOrigin + s.shownAt && b.endedAt > pageOrigin + s.sentAt);
    const slow = samples.filter((s) => total(s) >= slowFrom);
    const withIt = samples.filter(met).map(total);
    const without = samples.filter((s) => !met(s)).map(total);
    out[`tail.${what}.shareOfSlowest10pc`] = round(slow.filter(met).length / Math.max(1, slow.length), 2);
    out[`tail.${what}.shareOfAll`] = round(withIt.length / samples.length, 2);
    if (withIt.length > 0) out[`tail.${what}.p50With`] = summarize(withIt).p50;
    if (without.length > 0) out[`tail.${what}.p50Without`] = summarize(without).p50;
  }
  return out;
}

function push<T>(m: Map<string, T[]>, k: string, v: T): void {
  const list = m.get(k);
  if (list) list.push(v);
  else m.set(k, [v]);
}
