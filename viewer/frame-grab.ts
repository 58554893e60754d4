// Copies the app area of the shown picture (stamp strip excluded) at
// app resolution, as base64 RGBA: the test hook compares it with the app's
// own rendering.
import type { SinkPicture } from './stream-sink.js';

export interface GrabbedFrame {
  width: number;
  height: number;
  rgbaBase64: string;
}

export function grabAppFrame(picture: SinkPicture, appWidth: number, appHeight: number): GrabbedFrame | null {
  if (picture.width <= 0 || picture.height <= 0 || appWidth <= 0 || appHeight <= 0) return null;
  const canvas = document.createElement('canvas');
  canvas.width = appWidth;
  canvas.height = appHeight;
  const ctx = canvas.getContext('2d', { willReadFrequently: true });
  if (!ctx) return null;
  ctx.drawImage(picture.source, 0, 0, picture.width, picture.height, 0, 0, appWidth, appHeight);
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
