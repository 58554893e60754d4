// End to end on a phone: Chromium with mobile emulation (390×844, touch,
// isMobile, DPR 3). The session opens fitted to the screen; text typed through
// an IME composition and two kinds of autocorrect lands in the log exactly
// once and the displayed frame matches a reference render of the logged
// state; rotating re-fits every replica; a long press selects a word and
// dragging the end handle extends it through the log; opening the on-screen
// keyboard re-fits with the caret in view; a finger paints; nothing overflows
// horizontally at 360 px.
//
// How the soft keyboard is driven: CDP `Input.imeSetComposition` and
// `Input.insertText` go through Chromium's real editing code, as an IME or an
// Android keyboard does. Android's autocorrect re-composes the word it fixes
// (InputConnection.setComposingRegion + commitText): that is
// `imeSetComposition` with a replacement range, then the commit. Safari's
// autocorrect is an `insertReplacementText` edit; Chromium has no CDP command
// for it, so the test performs it as Safari does (beforeinput, the textarea's
// text replaced, input with that inputType). In a textarea getTargetRanges()
// is always empty, which is why the viewer diffs the textarea, not the event.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { CDPSession, Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../helpers/browser.js';
import { psnr } from '../helpers/image.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { fetchLog, referenceState, renderState } from '../helpers/reference-render.js';
import { grab, settled, viewerPageState } from '../helpers/viewer-page.js';
import { lineIndexAt } from '../../render/apps/writer/layout.js';
import type { WriterState } from '../../render/apps/writer/state.js';
import {
  LINE_HEIGHT_PX,
  layoutOf,
  lineTop,
  MARGIN_TOP_PX,
  MARGIN_X_PX,
  widthOf,
} from '../../render/apps/writer/view.js';
import { UNITS_PER_PX } from '../../render/apps/writer/measure.js';
import { graphemes } from '../../viewer/text-edit.js';
import { getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

interface StreamSize {
  live: boolean;
  frameWidth: number | null;
  frameHeight: number | null;
}

interface WriterLike {
  text: string;
  caret: number;
  anchor: number;
  width: number;
  height: number;
}

/** The scenario: the desktop default surface, opened on a phone. */
const W = 1280;
const H = 720;
const PHONE = { width: 390, height: 844 };

async function createSession(url: string, app: string): Promise<string> {
  const v = await TestViewer.connect(url);
  try {
    const { session } = await v.request({ type: 'sessions.create', app, replicationFactor: 2, width: W, height: H });
    return session.sessionId;
  } finally {
    v.close();
  }
}

async function appSize(page: Page) {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep: { appWidth: number; appHeight: number; streams: StreamSize[] } })
      .__lockstep;
    return { w: l.appWidth, h: l.appHeight, streams: l.streams.map((s) => ({ ...s })) };
  });
}

/**
 * The shown stream (with `every`, every stream: hot mode decodes them all)
 * has frames of the app's size, which differs from `not`.
 */
async function fitted(page: Page, what: string, not: { w: number; h: number }, every = false) {
  return waitFor(
    what,
    async () => {
      const s = await appSize(page);
      const checked = every ? s.streams : s.streams.filter((v) => v.live);
      const ok =
        checked.length > 0 &&
        checked.every((v) => v.frameWidth === s.w && v.frameHeight === s.h) &&
        (s.w !== not.w || s.h !== not.h);
      return ok ? { w: s.w, h: s.h } : undefined;
    },
    40_000,
  );
}

/** Widest element edge past the viewport, and tap targets under 44 px. */
async function layoutProblems(page: Page) {
  return page.evaluate(() => {
    const vw = document.documentElement.clientWidth;
    const overflow = document.documentElement.scrollWidth - vw;
    const small = [...document.querySelectorAll<HTMLElement>('button, a.btn, select, a.back')]
      .filter((el) => el.offsetParent !== null)
      .map((el) => ({ el: el.textContent?.trim() ?? el.tagName, r: el.getBoundingClientRect() }))
      .filter(({ r }) => r.height < 44 || r.width < 44)
      .map(({ el, r }) => `${el} ${Math.round(r.width)}×${Math.round(r.height)}`);
    const outside = [...document.querySelectorAll<HTMLElement>('body *')]
      .filter((el) => el.offsetParent !== null && !el.closest('.stage'))
      .filter((el) => el.getBoundingClientRect().right > vw + 0.5)
      .map((el) => `${el.tagName}.${el.className}`);
    return { overflow, small, outside };
  });
}

/** Text typed so far by key presses (what the log holds), in order. */
function typedKeys(log: Awaited<ReturnType<typeof fetchLog>>): string {
  return log
    .map((i) =>
      i.event.type === 'key' && i.event.action === 'down'
        ? (i.event.text ?? (i.event.key === 'Backspace' ? '⌫' : i.event.key === 'Enter' ? '⏎' : ''))
        : '',
    )
    .join('');
}

function widthOfText(s: string): number {
  return graphemes(s).reduce((sum, g) => sum + widthOf(g), 0);
}

/** Every replica has applied the head and they agree on its state hash. */
async function agreeAtHead(url: string, sessionId: string) {
  return waitFor('replicas agree at the head', async () => {
    const s = await getSession(url, sessionId);
    const hashes = new Set(s.replicas.map((r) => `${r.appliedSeq}:${r.stateHash}`));
    return hashes.size === 1 && s.replicas[0]?.appliedSeq === s.headSeq ? s : undefined;
  });
}

async function touch(cdp: CDPSession, type: 'touchStart' | 'touchMove' | 'touchEnd', x = 0, y = 0): Promise<void> {
  await cdp.send('Input.dispatchTouchEvent', { type, touchPoints: type === 'touchEnd' ? [] : [{ x, y }] });
}

describe('e2e: the viewer on a phone (Chromium mobile emulation)', () => {
  let server: ServerProc;
  let browser: TestBrowser;

  before(async () => {
    server = await startServer();
    await startNode({ url: server.url, hostId: 'host-a' });
    await startNode({ url: server.url, hostId: 'host-b' });
    browser = await launchChromium({ viewport: PHONE, deviceScaleFactor: 3, isMobile: true, hasTouch: true });
  });

  after(async () => {
    await browser?.close();
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  it('opens fitted, types through IME and autocorrect exactly once, re-fits on rotation', async (t) => {
    const sessionId = await createSession(server.url, 'writer');
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?session=${sessionId}&mode=hot&token=${encodeURIComponent(server.ownerToken)}`);
    await waitFor('viewer showing frames', async () => (await viewerPageState(page))?.ready, 30_000);

    // Fitted without asking: the app is the stage's size, shown 1:1 (16 px text stays 16 px).
    const portrait = await fitted(page, 'fitted to the phone', { w: W, h: H }, true);
    const stageBox = await page.locator('[data-testid="stage"]').boundingBox();
    assert.ok(stageBox);
    assert.ok(portrait.w <= PHONE.width && portrait.w >= PHONE.width - 40, `width ${portrait.w}`);
    assert.ok(Math.abs(stageBox.width - portrait.w) <= 2, `shown at 1:1: ${stageBox.width} px for ${portrait.w}`);
    assert.ok(portrait.h > portrait.w, `portrait ${portrait.w}×${portrait.h}`);

    // A tap focuses the hidden textarea (what raises a phone's keyboard).
    await page.touchscreen.tap(stageBox.x + 40, stageBox.y + 40);
    assert.equal(
      await page.evaluate(() => document.activeElement?.getAttribute('data-testid')),
      'soft-input',
      'the editable element has focus',
    );
    const attrs = await page
      .locator('[data-testid="soft-input"]')
      .evaluate((el) => ['inputmode', 'autocapitalize', 'autocorrect'].map((a) => el.getAttribute(a)));
    assert.deepEqual(attrs, ['text', 'off', 'off']);

    const cdp = await page.context().newCDPSession(page);
    // CJK: romaji → kana → kanji, committed once.
    for (const text of ['n', 'に', 'にほ', 'にほん', '日本']) {
      await cdp.send('Input.imeSetComposition', { text, selectionStart: text.length, selectionEnd: text.length });
    }
    assert.equal(await page.locator('[data-testid="preedit"]').textContent(), '日本', 'the composition is shown');
    await cdp.send('Input.insertText', { text: '日本' });
    // Predictive text: a word inserted in one go, then Safari-style autocorrect of it.
    await cdp.send('Input.insertText', { text: ' teh' });
    await page.locator('[data-testid="soft-input"]').evaluate((el: HTMLTextAreaElement) => {
      const start = el.value.length - 3;
      const init = { inputType: 'insertReplacementText', data: 'the', bubbles: true, cancelable: true };
      if (!el.dispatchEvent(new InputEvent('beforeinput', init))) return;
      el.setRangeText('the', start, el.value.length, 'end');
      el.dispatchEvent(new InputEvent('input', { ...init, cancelable: false }));
    });
    // Android-style autocorrect: the keyboard re-composes "wrold" and commits "world".
    await cdp.send('Input.insertText', { text: ' wrold' });
    const len = await page.locator('[data-testid="soft-input"]').evaluate((el: HTMLTextAreaElement) => el.value.length);
    await cdp.send('Input.imeSetComposition', {
      text: 'world',
      selectionStart: 5,
      selectionEnd: 5,
      replacementStart: len - 5,
      replacementEnd: len,
    });
    await cdp.send('Input.insertText', { text: 'world' });
    // Emoji, then a Backspace and Enter from a (tablet's) hardware keyboard, then more soft typing.
    await cdp.send('Input.insertText', { text: ' 👍🏽' });
    await page.keyboard.press('Backspace');
    await page.keyboard.type('!');
    await page.keyboard.press('Enter');
    await cdp.send('Input.insertText', { text: 'ok' });
    await cdp.detach();

    const expected = '日本 the world !\nok';
    await settled(page, server.url, sessionId);
    const log = await fetchLog(server.url, sessionId);
    assert.equal(
      typedKeys(log),
      '日本 teh⌫⌫he wrold⌫⌫⌫⌫orld 👍🏽⌫!⏎ok',
      'each commit once; replacements as deletions plus insertions',
    );
    const state = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterLike;
    assert.equal(state.text, expected);
    assert.equal(state.caret, expected.length);

    // The frame on screen is the reference render of the logged state.
    await new Promise((r) => setTimeout(r, 700)); // let VP8 refine the still picture
    const shown = await grab(page);
    assert.deepEqual({ w: shown.width, h: shown.height }, { w: state.width, h: state.height });
    const match = psnr(new Uint8Array(Buffer.from(shown.rgbaBase64, 'base64')), renderState('writer', state));
    t.diagnostic(`PSNR shown/reference ${match.toFixed(1)} dB at ${shown.width}×${shown.height}`);
    assert.ok(match > 25, `shown vs reference: ${match.toFixed(1)} dB`);

    const dir = process.env.LOCKSTEP_SCREENSHOTS_DIR;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      await page.screenshot({ path: join(dir, 'viewer-phone.png'), scale: 'css' });
    }

    // Rotation: landscape re-fits, every replica at the new size with the same state.
    await page.setViewportSize({ width: PHONE.height, height: PHONE.width });
    const landscape = await fitted(page, 'fitted after rotation', portrait, true);
    assert.ok(landscape.w > landscape.h, `landscape ${landscape.w}×${landscape.h}`);
    await settled(page, server.url, sessionId);
    const info = await agreeAtHead(server.url, sessionId);
    assert.ok(info.replicas.length >= 1);
    const rotated = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterLike;
    assert.deepEqual({ w: rotated.width, h: rotated.height }, landscape, 'the resize is a logged input');
    assert.equal(rotated.text, expected, 'reflow changes no text');
    await page.setViewportSize(PHONE);
    await fitted(page, 'back to portrait', landscape);

    // A long press selects the word under the finger ("world" on the first line).
    const box = await page.locator('[data-testid="stage"]').boundingBox();
    assert.ok(box);
    const c = await page.context().newCDPSession(page);
    // The middle of "world" on the first line (top margin 20 px, 24 px lines), measured with the app's own font metrics.
    const wordX = MARGIN_X_PX + (widthOfText('日本 the ') + widthOfText('world') / 2) / UNITS_PER_PX;
    await touch(c, 'touchStart', box.x + wordX, box.y + MARGIN_TOP_PX + 12);
    await new Promise((r) => setTimeout(r, 900));
    await touch(c, 'touchEnd');
    await c.detach();
    await settled(page, server.url, sessionId);
    const picked = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterLike;
    const sel = picked.text.slice(Math.min(picked.anchor, picked.caret), Math.max(picked.anchor, picked.caret));
    assert.equal(sel, 'world', 'long press selected a word');

    // Drag handles: the writer reports its selection's ends, the viewer draws two 44 px handles under them.
    const startHandle = page.locator('[data-testid="selection-handle-start"]');
    const endHandle = page.locator('[data-testid="selection-handle-end"]');
    await endHandle.waitFor({ state: 'visible', timeout: 20_000 });
    const stemAt = async (l: typeof endHandle) => {
      const b = await l.boundingBox();
      return b ? { x: b.x + b.width / 2 - box.x, top: b.y - box.y, w: b.width, h: b.height } : undefined;
    };
    const xAfter = (s: string): number => MARGIN_X_PX + widthOfText(s) / UNITS_PER_PX;
    const lineBottom = MARGIN_TOP_PX + 24;
    const [hs, he] = [await stemAt(startHandle), await stemAt(endHandle)];
    assert.ok(hs && he);
    assert.ok(he.w >= 44 && he.h >= 44 && hs.w >= 44 && hs.h >= 44, `handle targets ${he.w}×${he.h}`);
    assert.ok(Math.abs(hs.x - xAfter('日本 the ')) <= 2, `start handle at the word's start: ${hs.x}`);
    assert.ok(Math.abs(he.x - xAfter('日本 the world')) <= 2, `end handle at the word's end: ${he.x}`);
    assert.ok(Math.abs(he.top - lineBottom) <= 2, `below the line: ${he.top}`);
    // Drag the end handle past " !" (the end of the line): the selection extends through the log.
    const g = await page.context().newCDPSession(page);
    const from = { x: box.x + he.x, y: box.y + he.top + he.h / 2 };
    const toX = box.x + xAfter('日本 the world !') + 6;
    await touch(g, 'touchStart', from.x, from.y);
    for (let i = 1; i <= 6; i++) await touch(g, 'touchMove', from.x + ((toX - from.x) * i) / 6, from.y);
    await touch(g, 'touchEnd');
    await g.detach();
    await settled(page, server.url, sessionId);
    const extended = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterLike;
    const lo = Math.min(extended.anchor, extended.caret);
    assert.equal(
      extended.text.slice(lo, Math.max(extended.anchor, extended.caret)),
      'world !',
      'the handle extended it',
    );
    assert.equal(lo, picked.text.indexOf('world'), 'the start stayed');
    const dragTail = (await fetchLog(server.url, sessionId)).slice(-12);
    assert.ok(
      dragTail.some((i) => i.event.type === 'pointer' && i.event.pointerType === 'touch' && i.event.mods.shift),
      'a shift+press at the end, as the writer understands it',
    );
    // The frame shows the extended selection (the reference render of the logged state), the handle follows it.
    await new Promise((r) => setTimeout(r, 700));
    const selShown = await grab(page);
    const selMatch = psnr(new Uint8Array(Buffer.from(selShown.rgbaBase64, 'base64')), renderState('writer', extended));
    t.diagnostic(`PSNR shown/reference with the extended selection ${selMatch.toFixed(1)} dB`);
    assert.ok(selMatch > 25, `extended selection shown vs reference: ${selMatch.toFixed(1)} dB`);
    await waitFor('the end handle at the new end', async () => {
      const e = await stemAt(endHandle);
      return e && Math.abs(e.x - xAfter('日本 the world !')) <= 2 ? e : undefined;
    });

    // One finger dragging down scrolls the text back up: wheel inputs, the caret stays.
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', text);
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, 'line\n'.repeat(60));
    await settled(page, server.url, sessionId);
    const scrolled = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterLike & { scrollY: number };
    assert.ok(scrolled.scrollY > 300, `the paste scrolled to its end: ${scrolled.scrollY}`);
    const d = await page.context().newCDPSession(page);
    await touch(d, 'touchStart', box.x + 150, box.y + 100);
    for (let y = 120; y <= 400; y += 20) await touch(d, 'touchMove', box.x + 150, box.y + y);
    await touch(d, 'touchEnd');
    await d.detach();
    // A fast release flings on for up to ~1 s of wheel inputs; a wheel logged after the keyboard's re-fit below
    // would scroll the caret out again. Wait until the log has stopped growing.
    for (let last = -1, n = (await fetchLog(server.url, sessionId)).length; n !== last;) {
      await new Promise((r) => setTimeout(r, 400));
      last = n;
      n = (await fetchLog(server.url, sessionId)).length;
    }
    await settled(page, server.url, sessionId);
    const after = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterLike & { scrollY: number };
    assert.ok(
      after.scrollY <= scrolled.scrollY - 280,
      `scrolled up with the finger: ${scrolled.scrollY} → ${after.scrollY}`,
    );
    assert.equal(after.caret, scrolled.caret, 'scrolling does not move the caret');
    const tail = (await fetchLog(server.url, sessionId)).slice(-20);
    assert.ok(
      tail.some((i) => i.event.type === 'wheel'),
      'the drag became wheel inputs',
    );
    // The on-screen keyboard opens. Android Chrome (108+) and iOS Safari shrink only the visual viewport;
    // the layout viewport stays. Tried in this headless Chromium: CDP Emulation.setVisibleSize changes
    // nothing, setDeviceMetricsOverride (also with dontSetVisibleSize) shrinks both viewports (a window
    // resize, which rotation above already covers), setPageScaleFactor shrinks visualViewport.height but
    // raises its scale (a pinch zoom, which the fit rule rightly ignores). No CDP command reproduces a
    // keyboard, so the test gives visualViewport the height a keyboard leaves and fires its resize event,
    // as the browser does. Limits: Chromium's own keyboard inset and its scroll of the focused element are
    // not exercised, nor its panning of the visual viewport to the stage; everything from the event on (the
    // fit rule, the resize input, every replica's reflow, the caret kept in view) is the real code.
    const open = await appSize(page);
    const KEYBOARD_TOP = 480; // what a 390×844 phone shows above a typical keyboard
    // A string: tsx would wrap a getter written here in a helper the page does not have.
    const setVisibleHeight = (h: number | null) =>
      page.evaluate(`(() => {
        const vv = window.visualViewport;
        if (${h === null ? 'true' : 'false'}) delete vv.height;
        else Object.defineProperty(vv, 'height', { configurable: true, get: () => ${h ?? 0} });
        vv.dispatchEvent(new Event('resize'));
      })()`);
    await setVisibleHeight(KEYBOARD_TOP);
    const above = await fitted(page, 'fitted above the keyboard', open, true);
    assert.deepEqual(above, { w: open.w, h: KEYBOARD_TOP - 8 }, 'the visible height, less the margin');
    await settled(page, server.url, sessionId);
    await agreeAtHead(server.url, sessionId);
    const typing = (await referenceState(server.url, 'writer', W, H, sessionId)) as WriterState;
    assert.deepEqual({ w: typing.width, h: typing.height }, above, 'the keyboard re-fit is a logged input');
    const caretTop = lineTop(lineIndexAt(layoutOf(typing), typing.caret)) - typing.scrollY;
    assert.ok(
      caretTop >= 0 && caretTop + LINE_HEIGHT_PX <= typing.height,
      `the caret line stays visible: top ${caretTop} in ${typing.height}`,
    );
    // The whole surface fits above the keyboard (bringing it there is the browser panning its visual
    // viewport on scrollIntoView, which this simulation cannot show: the real viewport did not shrink).
    const stageNow = await page.locator('[data-testid="stage"]').boundingBox();
    assert.ok(stageNow && stageNow.height <= KEYBOARD_TOP, `the stage fits above it: ${stageNow?.height}`);
    // The keyboard closes: back to the full height.
    await setVisibleHeight(null);
    await fitted(page, 'fitted after the keyboard closed', above, true);
    await page.close();
  });

  it('a finger paints: touch drags are pointer strokes, the frame matches the reference', async (t) => {
    const sessionId = await createSession(server.url, 'paint');
    const page = await browser.context.newPage();
    await page.goto(`${server.url}/?session=${sessionId}&token=${encodeURIComponent(server.ownerToken)}`);
    await waitFor('viewer showing frames', async () => (await viewerPageState(page))?.ready, 30_000);
    const size = await fitted(page, 'fitted to the phone', { w: W, h: H });
    const box = await page.locator('[data-testid="stage"]').boundingBox();
    assert.ok(box);
    const cdp = await page.context().newCDPSession(page);
    await touch(cdp, 'touchStart', box.x + 60, box.y + 200);
    for (let i = 1; i <= 15; i++) await touch(cdp, 'touchMove', box.x + 60 + i * 15, box.y + 200 + i * 10);
    await touch(cdp, 'touchEnd');
    await cdp.detach();
    await settled(page, server.url, sessionId);
    const log = await fetchLog(server.url, sessionId);
    const strokes = log.filter((i) => i.event.type === 'pointer' && i.event.pointerType === 'touch');
    assert.ok(strokes.length >= 10, `touch pointer inputs: ${strokes.length}`);
    assert.ok(!log.some((i) => i.event.type === 'wheel'), 'no scrolling in a drawing app');
    await new Promise((r) => setTimeout(r, 700));
    const shown = await grab(page);
    const state = await referenceState(server.url, 'paint', W, H, sessionId);
    const expected = renderState('paint', state);
    assert.deepEqual({ w: shown.width, h: shown.height }, size);
    const px = new Uint8Array(Buffer.from(shown.rgbaBase64, 'base64'));
    const match = psnr(px, expected);
    t.diagnostic(`PSNR shown/reference ${match.toFixed(1)} dB`);
    assert.ok(match > 25, `shown vs reference: ${match.toFixed(1)} dB`);
    await page.close();
  });

  it('lays out at 360 px without horizontal overflow, tap targets at least 44 px', async () => {
    const sessionId = await createSession(server.url, 'writer');
    const page = await browser.context.newPage();
    await page.setViewportSize({ width: 360, height: 740 });
    await page.goto(`${server.url}/?token=${encodeURIComponent(server.ownerToken)}`);
    await page.locator(`a[href*="${sessionId}"]`).first().waitFor();
    const list = await layoutProblems(page);
    assert.deepEqual(list, { overflow: 0, small: [], outside: [] }, 'session list');

    await page.goto(`${server.url}/?session=${sessionId}&token=${encodeURIComponent(server.ownerToken)}`);
    await waitFor('viewer showing frames', async () => (await viewerPageState(page))?.ready, 30_000);
    await fitted(page, 'fitted to 360 px', { w: W, h: H });
    await waitFor(
      'replica bar filled',
      async () => (await page.locator('.replica-bar .chip').count()) > 0 || undefined,
    );
    // With a banner up too (a paste over the limit is refused with one).
    await page.locator('[data-testid="stage"]').tap();
    await page.evaluate((text) => {
      const dt = new DataTransfer();
      dt.setData('text/plain', text);
      document.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
    }, 'x'.repeat(70_000));
    await page.locator('.banner-error', { hasText: 'Paste too large' }).waitFor();
    const view = await layoutProblems(page);
    assert.deepEqual(view, { overflow: 0, small: [], outside: [] }, 'session view');

    // Pinch zoom of the picture is an option: off, two fingers do nothing; on, the page zooms.
    const box = await page.locator('[data-testid="stage"]').boundingBox();
    assert.ok(box);
    const pinch = async (): Promise<number> => {
      // Two fingers moving apart (CDP's synthesized touch pinch does not zoom headless Chromium).
      const cdp = await page.context().newCDPSession(page);
      const [cx, cy] = [box.x + box.width / 2, box.y + box.height / 2];
      const fingers = (d: number) => [
        { x: cx - d, y: cy, id: 0 },
        { x: cx + d, y: cy, id: 1 },
      ];
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchStart', touchPoints: fingers(20) });
      for (let d = 30; d <= 120; d += 10) {
        await cdp.send('Input.dispatchTouchEvent', { type: 'touchMove', touchPoints: fingers(d) });
      }
      await cdp.send('Input.dispatchTouchEvent', { type: 'touchEnd', touchPoints: [] });
      await cdp.detach();
      await new Promise((r) => setTimeout(r, 300));
      return page.evaluate(() => window.visualViewport?.scale ?? 1);
    };
    assert.equal(await pinch(), 1, 'no zoom without the option');
    await page.locator('[data-testid="zoom-button"]').tap();
    assert.ok((await pinch()) > 1.2, 'the picture zooms with the option on');
    await page.close();
  });
});
