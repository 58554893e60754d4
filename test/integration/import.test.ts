// Bring your work in: POST /api/sessions/import creates a session from a file
// whose content enters the durable log as inputs, so every replica holds it
// and the document exports back; bad files are refused before anything exists.
// An image goes into paint decoded once by the server: every replica holds the
// same pixels, and what they render matches the image.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { crc32 } from 'node:zlib';
import { createCanvas, loadImage } from 'canvas';
import type { ImportedSession } from '../../protocol/rest.js';
import { stateHashOf } from '../../render/app-hash.js';
import { paintApp } from '../../render/apps/index.js';
import { authHeaders } from '../../scripts/lib/cluster-secrets.js';
import { removeDir, startNode, startServer, stopAll, type ServerProc } from '../helpers/processes.js';
import { fetchLog, referenceRender } from '../helpers/reference-render.js';
import { replay } from '../helpers/app-driver.js';
import { converged, getSession, TestViewer, waitFor } from '../helpers/viewer-client.js';

/** An opaque w×h picture: four coloured quadrants and a grey ramp along the top, so scaling and offsets show. */
function picture(w: number, h: number): ReturnType<typeof createCanvas> {
  const canvas = createCanvas(w, h);
  const ctx = canvas.getContext('2d');
  const colours = ['#d02020', '#20a040', '#2040d0', '#e0c000'];
  colours.forEach((c, i) => {
    ctx.fillStyle = c;
    ctx.fillRect((i % 2) * (w / 2), Math.floor(i / 2) * (h / 2), w / 2, h / 2);
  });
  for (let x = 0; x < w; x++) {
    ctx.fillStyle = `rgb(${x % 256},${x % 256},${x % 256})`;
    ctx.fillRect(x, 0, 1, 8);
  }
  return canvas;
}

describe('import a file into a new session', () => {
  let server: ServerProc;
  before(async () => {
    server = await startServer();
    for (const h of ['host-a', 'host-b']) await startNode({ url: server.url, hostId: h });
  });
  after(async () => {
    await stopAll();
    if (server) removeDir(server.dataDir);
  });

  const post = (query: string, body: Uint8Array | string, headers = authHeaders(server.url)) =>
    fetch(`${server.url}/api/sessions/import?${query}`, {
      method: 'POST',
      headers: { ...headers, 'Content-Type': 'application/octet-stream' },
      body: typeof body === 'string' ? body : Buffer.from(body),
    });
  const exported = async (sessionId: string, format: string) => {
    const res = await fetch(`${server.url}/api/sessions/${sessionId}/export?format=${format}`, {
      headers: authHeaders(server.url),
    });
    assert.equal(res.status, 200, await res.clone().text());
    return res.text();
  };
  const sessionCount = async () => {
    const res = await fetch(`${server.url}/api/sessions`, { headers: authHeaders(server.url) });
    return ((await res.json()) as { sessions: unknown[] }).sessions.length;
  };

  it('imports .txt into the writer and .csv into the sheet; every replica has it; it exports back', async () => {
    const text = `Imported notes\n${'A line of a long report. '.repeat(4000)}\nThe end ✓`;
    const res = await post('format=txt&replicationFactor=2&width=640&height=400', text);
    assert.equal(res.status, 201, await res.clone().text());
    const { session, imported } = (await res.json()) as ImportedSession;
    assert.equal(session.app.name, 'writer');
    assert.ok(imported.inputs >= 2, `a ${text.length}-character file takes several inputs`);
    await waitFor(
      'replicas agree',
      async () => {
        const s = await getSession(server.url, session.sessionId);
        return converged(s, 2) && s.replicas.every((r) => r.appliedSeq === imported.headSeq);
      },
      30_000,
    );
    assert.equal(await exported(session.sessionId, 'txt'), text);

    const csv = 'item,amount\r\nrent,1200\r\nfood,300\r\n"a, b","say ""hi"""\r\ntotal,=B2+B3\r\n';
    const sheet = await post('format=csv&replicationFactor=2', csv);
    assert.equal(sheet.status, 201, await sheet.clone().text());
    const s2 = (await sheet.json()) as ImportedSession;
    assert.equal(s2.session.app.name, 'sheet');
    await waitFor(
      'sheet replicas agree',
      async () => converged(await getSession(server.url, s2.session.sessionId), 2),
      30_000,
    );
    // The export shows computed values: the formula imported as a formula.
    assert.equal(
      await exported(s2.session.sessionId, 'csv'),
      'item,amount\r\nrent,1200\r\nfood,300\r\n"a, b","say ""hi"""\r\ntotal,1500\r\n',
    );

    // Bad files: typed errors, and no session is left behind.
    const before = await sessionCount();
    const badCsv = await post('format=csv', 'a,"never closed\n');
    assert.equal(badCsv.status, 400);
    assert.match(((await badCsv.json()) as { error: { message: string } }).error.message, /not valid CSV/);
    assert.equal((await post('format=txt', new Uint8Array([0xc3, 0x28]))).status, 400);
    assert.equal((await post('format=png', 'x')).status, 400);
    assert.equal((await post('format=csv&app=writer', 'a,b')).status, 400);
    assert.equal((await post('format=txt', new Uint8Array(4 * 1024 * 1024 + 1))).status, 413);
    assert.equal(await sessionCount(), before);

    // A share link may not create sessions.
    const viewer = await TestViewer.connect(server.url);
    const link = await viewer.request({ type: 'share.create', sessionId: session.sessionId, role: 'control' });
    viewer.close();
    assert.equal((await post('format=txt', 'x', { Authorization: `Bearer ${link.token}` })).status, 403);
  });

  it('imports a PNG (and a JPEG) into paint: same hash on every replica, pixels of the image, in its .png export', async () => {
    const width = 640;
    const height = 400;
    const source = picture(300, 200);
    const res = await post(
      `format=png&replicationFactor=2&width=${width}&height=${height}`,
      source.toBuffer('image/png'),
    );
    assert.equal(res.status, 201, await res.clone().text());
    const { session, imported } = (await res.json()) as ImportedSession;
    assert.equal(session.app.name, 'paint');
    assert.ok(imported.inputs >= 5, `300×200 RGBA takes several parts (${imported.inputs})`);
    const live = await waitFor(
      'paint replicas agree at the head',
      async () => {
        const s = await getSession(server.url, session.sessionId);
        return converged(s, 2) && s.headSeq === imported.headSeq ? s : undefined;
      },
      60_000,
    );
    // The durable log rebuilds the same state every replica reports.
    const log = await fetchLog(server.url, session.sessionId);
    const rebuilt = replay(paintApp, paintApp.init({ width, height }), log);
    assert.equal(stateHashOf(paintApp.snapshot(rebuilt)), live.replicas.find((r) => r.state === 'live')?.stateHash);

    // The export (a replica's rendered canvas, agreed by both hosts) against a reference render of the image itself:
    // white paper with the picture at the board's top-left, unscaled (it fits).
    const res2 = await fetch(`${server.url}/api/sessions/${session.sessionId}/export?format=png`, {
      headers: authHeaders(server.url),
    });
    assert.equal(res2.status, 200);
    const shown = createCanvas(width, height).getContext('2d');
    shown.drawImage(await loadImage(Buffer.from(await res2.arrayBuffer())), 0, 0);
    const ref = createCanvas(width, height).getContext('2d');
    ref.fillStyle = '#ffffff';
    ref.fillRect(0, 0, width, height);
    ref.drawImage(source, 0, 0);
    // The board between the toolbar (40 px) and the status line (24 px).
    const board = (ctx: typeof ref) => Buffer.from(ctx.getImageData(0, 40, width, height - 64).data);
    assert.ok(board(shown).equals(board(ref)), 'the exported board is the image on white paper, pixel for pixel');
    assert.ok(
      Buffer.from(shown.getImageData(0, 0, width, height).data).equals(
        Buffer.from(referenceRender('paint', width, height, log)),
      ),
      'and what the app renders from the log',
    );

    // A JPEG larger than the surface is scaled down to fit it, aspect kept.
    const big = picture(1600, 1000);
    const jpeg = await post(
      `format=jpeg&replicationFactor=2&width=${width}&height=${height}`,
      big.toBuffer('image/jpeg'),
    );
    assert.equal(jpeg.status, 201, await jpeg.clone().text());
    const j = (await jpeg.json()) as ImportedSession;
    await waitFor(
      'jpeg replicas agree',
      async () => converged(await getSession(server.url, j.session.sessionId), 2),
      60_000,
    );
    const state = replay(paintApp, paintApp.init({ width, height }), await fetchLog(server.url, j.session.sessionId));
    assert.deepEqual([state.background?.width, state.background?.height], [640, 400]);
    const at = (x: number, y: number) => [
      ...(state.background?.pixels.subarray((y * 640 + x) * 4, (y * 640 + x) * 4 + 3) ?? []),
    ];
    for (const [x, y, rgb] of [
      [160, 100, [0xd0, 0x20, 0x20]],
      [480, 100, [0x20, 0xa0, 0x40]],
      [160, 300, [0x20, 0x40, 0xd0]],
      [480, 300, [0xe0, 0xc0, 0x00]],
    ] as const) {
      at(x, y).forEach((v, i) => assert.ok(Math.abs(v - (rgb[i] ?? 0)) <= 12, `(${x}, ${y}): ${at(x, y).join(',')}`));
    }

    // Bad images: typed errors, nothing created, nothing logged.
    const before = await sessionCount();
    const png = source.toBuffer('image/png');
    const truncated = await post('format=png', png.subarray(0, png.length - 30));
    assert.equal(truncated.status, 400);
    assert.match(
      ((await truncated.json()) as { error: { message: string } }).error.message,
      /not a valid image: truncated/,
    );
    assert.equal((await post('format=jpeg', 'not a jpeg at all')).status, 400);
    assert.equal((await post('format=jpeg', png)).status, 400);
    const huge = Buffer.from(png);
    huge.writeUInt32BE(60_000, 16);
    huge.writeUInt32BE(60_000, 20);
    huge.writeUInt32BE(crc32(huge.subarray(12, 29)), 29);
    const tooBig = await post('format=png', huge);
    assert.equal(tooBig.status, 413);
    assert.match(((await tooBig.json()) as { error: { message: string } }).error.message, /declares 60000×60000/);
    assert.equal((await post('format=png&app=writer', png)).status, 400);
    assert.equal(await sessionCount(), before);
  });
});
