// End to end in real headless Chromium: type numbers and a formula into a
// sheet session, and check that the computed cell in the video matches a
// reference render of the state rebuilt from the durable log.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { sheetApp } from '../../render/apps/index.js';
import { computeAll, display } from '../../render/apps/sheet/index.js';
import { GRID_TOP, ROW_HEADER_WIDTH, ROW_HEIGHT } from '../../render/apps/sheet/layout.js';
import { DEFAULT_COL_WIDTH } from '../../render/apps/sheet/state.js';
import { replay } from '../helpers/app-driver.js';
import { psnr } from '../helpers/image.js';
import { fetchLog, referenceRender } from '../helpers/reference-render.js';
import {
  grabFrame,
  openViewer,
  startE2eSession,
  stopE2eSession,
  waitAllShown,
  type E2eSession,
} from '../helpers/e2e-viewer.js';

const W = 640;
const H = 480;

/** The RGBA pixels of one cell (column A, 0-based `row`). */
function cellPixels(rgba: ArrayLike<number>, row: number): number[] {
  const out: number[] = [];
  const top = GRID_TOP + row * ROW_HEIGHT;
  for (let y = top; y < top + ROW_HEIGHT - 1; y++)
    for (let x = ROW_HEADER_WIDTH; x < ROW_HEADER_WIDTH + DEFAULT_COL_WIDTH - 1; x++)
      for (let c = 0; c < 4; c++) out.push(rgba[(y * W + x) * 4 + c] ?? 0);
  return out;
}

describe('e2e: a formula typed in Chromium computes in the video', () => {
  let e: E2eSession | undefined;
  before(async () => {
    e = await startE2eSession('sheet', W, H);
  });
  after(() => stopE2eSession(e));

  it('types 2, 3 and =A1*A2+1: A3 shows 7, matching the reference render', async (t) => {
    assert.ok(e);
    const { server, sessionId } = e;
    const page = await openViewer(e);
    // The click that focuses the stage also selects the cell under it: go back to A1.
    await page.locator('[data-testid="stage"]').click();
    await page.keyboard.press('Control+Home');
    for (const entry of ['2', '3', '=A1*A2+1']) {
      await page.keyboard.type(entry, { delay: 30 });
      await page.keyboard.press('Enter');
    }
    await waitAllShown(page, server.url, sessionId);
    // Let the encoder refine the still picture.
    await new Promise((r) => setTimeout(r, 700));
    const shown = await grabFrame(page, W, H);

    const log = await fetchLog(server.url, sessionId);
    const state = replay(sheetApp, sheetApp.init({ width: W, height: H }), log);
    const values = computeAll(state.cells);
    assert.deepEqual(
      [0, 1, 2].map((row) => display(values.get(row * 26))),
      ['2', '3', '7'],
      'the logged inputs compute A3 = 7',
    );
    assert.equal(state.cells.get(2 * 26), '=A1*A2+1', 'A3 holds the formula as typed');

    const expected = referenceRender('sheet', W, H, log);
    const empty = referenceRender('sheet', W, H, []);
    const whole = psnr(shown, expected);
    const cell = psnr(cellPixels(shown, 2), cellPixels(expected, 2));
    const cellVsEmpty = psnr(cellPixels(shown, 2), cellPixels(empty, 2));
    t.diagnostic(
      `PSNR frame ${whole.toFixed(1)} dB; A3 vs expected ${cell.toFixed(1)} dB, vs empty ${cellVsEmpty.toFixed(1)} dB`,
    );
    assert.ok(whole > 25, `shown vs expected: ${whole.toFixed(1)} dB`);
    assert.ok(cell > 22, `A3 shown vs expected: ${cell.toFixed(1)} dB`);
    assert.ok(cell > cellVsEmpty + 3, `A3 looks like "7", not like an empty cell`);
    await page.close();
  });
});
