// The browser viewer's state, read the way the demos read it (scripts/lib/viewer-page.ts).
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import type { GrabbedFrame } from '../../viewer/frame-grab.js';
import { viewerPageState } from '../../scripts/lib/viewer-page.js';
import { getSession, waitFor } from './viewer-client.js';

export {
  observeFailover,
  openViewer,
  viewerPageState,
  type FailoverObservation,
  type ViewerPageState,
} from '../../scripts/lib/viewer-page.js';
export type { GrabbedFrame } from '../../viewer/frame-grab.js';

/** All of this viewer's inputs are logged and the picture shows the last of them; returns the head seq. */
export async function settled(page: Page, url: string, sessionId: string): Promise<number> {
  const session = await waitFor('all inputs acknowledged', async () => {
    const s = await viewerPageState(page);
    const info = await getSession(url, sessionId);
    return s && s.pendingInputs === 0 && info.headSeq > 0 && s.ackedSeq === info.headSeq ? info : undefined;
  });
  await waitFor('displayed frame reflects the last input', async () => {
    const s = await viewerPageState(page);
    return s && s.displayedSeq >= session.headSeq;
  });
  return session.headSeq;
}

/** The live stream's current frame, app area only, as the page's test hook grabs it. */
export async function grab(page: Page): Promise<GrabbedFrame> {
  const frame = await page.evaluate(() => {
    const l = (window as unknown as { __lockstep: { grabFrame(): GrabbedFrame | null } }).__lockstep;
    return l.grabFrame();
  });
  assert.ok(frame, 'grabFrame returned a frame');
  return frame;
}
