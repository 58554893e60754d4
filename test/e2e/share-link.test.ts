// Share links in Chromium: a view-only link shows the live session but sends
// nothing (the viewer says so, and the log does not grow when it types); a
// control link types into the same session; the owner closes the session from
// the list.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import type { WriterState } from '../../render/apps/writer/index.js';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { referenceState } from '../helpers/reference-render.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';
import { viewerPageState } from '../helpers/viewer-page.js';

const W = 480;
const H = 320;

describe('e2e: share links', () => {
  let server: ServerProc;
  let browser: TestBrowser;
  let owner: TestViewer;
  let sessionId: string;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    await startNode({ url: server.url, hostId: 'host-b' });
    owner = await TestViewer.connect(server.url);
    const { session } = await owner.request({
      type: 'sessions.create',
      app: 'writer',
      replicationFactor: 2,
      width: W,
      height: H,
    });
    sessionId = session.sessionId;
    await owner.request({ type: 'session.join', sessionId, clientId: 'owner' });
    await owner.type(sessionId, 'shared');
    browser = await launchChromium();
  });

  after(async () => {
    owner?.close();
    await browser?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  async function openLink(role: 'view' | 'control') {
    const link = await owner.request({ type: 'share.create', sessionId, role, ttlSeconds: 600 });
    const url = link.url.startsWith('http') ? link.url : `${server.url}${link.url}`;
    const page = await browser.context.newPage();
    await page.goto(url);
    await waitFor(`${role} link showing frames`, async () => (await viewerPageState(page))?.ready, 30_000);
    return page;
  }

  it('a view-only link watches the session and sends nothing', async () => {
    const page = await openLink('view');
    assert.equal(await page.locator('[data-testid="view-only"]').isVisible(), true, 'the viewer says it is view-only');
    const before = (await getSession(server.url, sessionId)).headSeq;
    await page.locator('[data-testid="stage"]').click();
    await page.keyboard.type('nope', { delay: 20 });
    await new Promise((r) => setTimeout(r, 800));
    assert.equal((await getSession(server.url, sessionId)).headSeq, before, 'no input reached the log');
    const st = await viewerPageState(page);
    assert.equal(st?.pendingInputs, 0);
    assert.ok((st?.displayedSeq ?? 0) >= before, 'it shows the current state');
    await page.close();
  });

  it('a control link types into the same session', async () => {
    const page = await openLink('control');
    assert.equal(await page.locator('[data-testid="view-only"]').isVisible(), false);
    await page.locator('[data-testid="stage"]').click();
    await page.keyboard.type(' by link', { delay: 20 });
    await waitFor('acknowledged', async () => (await viewerPageState(page))?.pendingInputs === 0);
    const state = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterState;
    assert.equal(state.text, 'shared by link');
    await page.close();
  });

  it('the owner closes the session from the list', async () => {
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?token=${encodeURIComponent(server.ownerToken)}`);
    const close = page.locator(`[data-testid="close-${sessionId}"]`);
    await close.waitFor({ timeout: 15_000 });
    await close.click();
    await waitFor('session closed', async () => {
      const res = await fetch(`${server.url}/api/sessions`, {
        headers: { authorization: `Bearer ${server.ownerToken}` },
      });
      const body = (await res.json()) as { sessions: Array<{ sessionId: string }> };
      return !body.sessions.some((s) => s.sessionId === sessionId);
    });
    await page.close();
  });
});
