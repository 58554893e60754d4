// What e2e tests read from the viewer page: its __lockstep hook's state and
// the RGBA of the frame it displays, and the wait for "everything typed is
// acknowledged and on screen".
import assert from 'node:assert/strict';
import type { Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from './browser.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from './processes.js';
import { getSession, TestViewer, waitFor } from './viewer-client.js';

export async function viewerState(page: Page) {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: Record<string, unknown> }).__lockstep;
    return l
      ? {
          ready: l.ready === true,
          displayedSeq: Number(l.displayedSeq ?? -1),
          ackedSeq: Number(l.ackedSeq ?? -1),
          pendingInputs: Number(l.pendingInputs ?? -1),
          liveReplicaId: (l.liveReplicaId as string | null) ?? null,
        }
      : null;
  });
}

/** The displayed frame's RGBA, checked to be `width`×`height`. */
export async function grabFrame(page: Page, width: number, height: number): Promise<Uint8Array> {
  const frame = await page.evaluate(() => {
    const l = (
      window as unknown as {
        __lockstep: { grabFrame(): { width: number; height: number; rgbaBase64: string } | null };
      }
    ).__lockstep;
    return l.grabFrame();
  });
  assert.ok(frame, 'grabFrame returned a frame');
  assert.equal(frame.width, width);
  assert.equal(frame.height, height);
  return new Uint8Array(Buffer.from(frame.rgbaBase64, 'base64'));
}

/** Waits until every input is acknowledged and the displayed frame shows the last one; returns the session. */
export async function waitAllShown(page: Page, url: string, sessionId: string) {
  const info = await waitFor('all inputs acknowledged', async () => {
    const s = await viewerState(page);
    const session = await getSession(url, sessionId);
    return s && s.pendingInputs === 0 && session.headSeq > 0 && s.ackedSeq === session.headSeq ? session : undefined;
  });
  await waitFor('displayed frame reflects the last input', async () => {
    const s = await viewerState(page);
    return s && s.displayedSeq >= info.headSeq;
  });
  return info;
}

export interface E2eSession {
  server: ServerProc;
  browser: TestBrowser;
  sessionId: string;
}

/** A server, one renderer node, a session of `app` and a Chromium. */
export async function startE2eSession(app: string, width: number, height: number): Promise<E2eSession> {
  const server = await startServer();
  await startNode({ url: server.url, hostId: 'host-a' });
  const v = await TestViewer.connect(server.url);
  const { session } = await v.request({ type: 'sessions.create', app, replicationFactor: 2, width, height });
  v.close();
  return { server, browser: await launchChromium(), sessionId: session.sessionId };
}

export async function stopE2eSession(e: E2eSession | undefined): Promise<void> {
  await e?.browser.close();
  await stopAll();
  if (e) removeDir(e.server.dataDir);
}

/** A new page showing the session's video (with the owner token). */
export async function openViewer(e: E2eSession): Promise<Page> {
  const page = await e.browser.context.newPage();
  await page.goto(`${e.server.url}/?session=${e.sessionId}&token=${encodeURIComponent(e.server.ownerToken)}`);
  await waitFor('viewer showing frames', async () => (await viewerState(page))?.ready, 30_000);
  return page;
}
