// The browser viewer's state, read the way the demos read it (scripts/lib/viewer-page.ts).
import type { Page } from 'playwright-core';
import { viewerPageState } from '../../scripts/lib/viewer-page.js';
import { getSession, waitFor } from './viewer-client.js';

export {
  observeFailover,
  openViewer,
  viewerPageState,
  type FailoverObservation,
  type ViewerPageState,
} from '../../scripts/lib/viewer-page.js';

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
