// Extracts packet loss and RTT for one consumer from a WebRTC stats report.
// Pure over plain stat objects; loss is computed over the interval since the
// previous sample, not since the call began.

export interface RtcSample {
  packetsReceived: number;
  packetsLost: number;
  rttMs: number | null;
  /** Video payload bytes received so far, and the stats timestamp (ms), for bitrate. */
  bytesReceived?: number;
  at?: number;
}

export interface RtcHealth {
  /** Lost fraction over the interval, null without a previous sample or traffic. */
  packetLoss: number | null;
  rttMs: number | null;
}

type Stat = { type?: unknown } & Record<string, unknown>;

function num(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function sampleRtcStats(stats: Iterable<Stat>): RtcSample | null {
  let received: number | null = null;
  let bytes = 0;
  let at: number | undefined;
  let lost = 0;
  let rtt: number | null = null;
  let pairRtt: number | null = null;
  for (const s of stats) {
    if (s.type === 'inbound-rtp' && (s.kind === 'video' || s.mediaType === 'video')) {
      received = (received ?? 0) + (num(s.packetsReceived) ?? 0);
      bytes += num(s.bytesReceived) ?? 0;
      at = num(s.timestamp) ?? at;
      lost += Math.max(0, num(s.packetsLost) ?? 0);
    } else if (s.type === 'remote-outbound-rtp') {
      const r = num(s.roundTripTime);
      if (r !== null) rtt = r * 1000;
    } else if (
      s.type === 'candidate-pair' &&
      (s.nominated === true || s.selected === true) &&
      s.state === 'succeeded'
    ) {
      const r = num(s.currentRoundTripTime);
      if (r !== null) pairRtt = r * 1000;
    }
  }
  if (received === null) return null;
  const sample: RtcSample = {
    packetsReceived: received,
    packetsLost: lost,
    rttMs: rtt ?? pairRtt,
    bytesReceived: bytes,
  };
  if (at !== undefined) sample.at = at;
  return sample;
}

/** Received video bitrate (kbit/s) between two samples, null without both bytes and timestamps. */
export function bitrateKbps(prev: RtcSample | null, cur: RtcSample | null): number | null {
  if (!prev || !cur || prev.bytesReceived === undefined || cur.bytesReceived === undefined) return null;
  if (prev.at === undefined || cur.at === undefined || cur.at <= prev.at) return null;
  const bits = Math.max(0, cur.bytesReceived - prev.bytesReceived) * 8;
  return Math.round(bits / (cur.at - prev.at));
}

export function rtcHealth(prev: RtcSample | null, cur: RtcSample | null): RtcHealth {
  if (!cur) return { packetLoss: null, rttMs: null };
  if (!prev) return { packetLoss: null, rttMs: cur.rttMs };
  const dRecv = cur.packetsReceived - prev.packetsReceived;
  const dLost = cur.packetsLost - prev.packetsLost;
  const total = dRecv + Math.max(0, dLost);
  return { packetLoss: total > 0 && dRecv >= 0 ? Math.max(0, dLost) / total : null, rttMs: cur.rttMs };
}
