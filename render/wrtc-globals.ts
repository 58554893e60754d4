// mediasoup-client expects browser WebRTC globals; in Node they come from
// @roamhq/wrtc. Installed once, before any Device is created.
import wrtc from '@roamhq/wrtc';

let installed = false;

export function installWrtcGlobals(): void {
  if (installed) return;
  installed = true;
  const g = globalThis as Record<string, unknown>;
  g.RTCPeerConnection = wrtc.RTCPeerConnection;
  g.RTCSessionDescription = wrtc.RTCSessionDescription;
  g.RTCIceCandidate = wrtc.RTCIceCandidate;
  g.MediaStream = wrtc.MediaStream;
  g.MediaStreamTrack = wrtc.MediaStreamTrack;
}

export { wrtc };
