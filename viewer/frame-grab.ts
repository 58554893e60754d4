// Copies the app area of a video's current frame (stamp strip excluded) at
// app resolution, as base64 RGBA: the test hook compares it with the app's
// own rendering.
import { STAMP_HEIGHT } from '../protocol/frame-stamp.js';

export interface GrabbedFrame {
  width: number;
  height: number;
  rgbaBase64: string;
}

export function grabAppFrame(video: HTMLVideoElement, appWidth: number, appHeight: number): GrabbedFrame | null {
  const vw = video.videoWidth;
  const vh = video.videoHeight;
  if (vw === 0 || vh === 0 || appWidth <= 0 || appHeight <= 0) return null;
  const canvas = document.createElement('canvas');
  canvas.width = appWidth;
  canvas.height = appHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return null;
  // Source rows scale with the (possibly encoder-scaled) frame height.
  const srcAppRows = (vh * appHeight) / (appHeight + STAMP_HEIGHT);
  ctx.drawImage(video, 0, 0, vw, srcAppRows, 0, 0, appWidth, appHeight);
  const data = ctx.getImageData(0, 0, appWidth, appHeight).data;
  return { width: appWidth, height: appHeight, rgbaBase64: bytesToBase64(data) };
}

function bytesToBase64(bytes: Uint8ClampedArray): string {
  // Chunked: String.fromCharCode(...hugeArray) overflows the call stack.
  let bin = '';
  const CHUNK = 0x8000;
  for (let i = 0; i < bytes.length; i += CHUNK) {
    bin += String.fromCharCode(...bytes.subarray(i, i + CHUNK));
  }
  return btoa(bin);
}
