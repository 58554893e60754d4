// Canonical snapshot bytes: JSON with a fixed key order, cells sorted by
// address. Restore validates everything: a snapshot may come from another host.
import { z } from 'zod';
import { decodeUtf8, encodeUtf8, SURFACE_LIMITS } from '../../sdk/index.js';
import { COLS, MAX_CELL_CHARS, MAX_COL_WIDTH, MIN_COL_WIDTH, ROWS, type Drag, type SheetState } from './state.js';

export const SNAPSHOT_VERSION = 1;

const cell = z
  .object({
    col: z
      .number()
      .int()
      .min(0)
      .max(COLS - 1),
    row: z
      .number()
      .int()
      .min(0)
      .max(ROWS - 1),
  })
  .strict();
const coord = z.number().int().min(-100_000).max(100_000);

const SnapshotSchema = z
  .object({
    app: z.literal('sheet'),
    v: z.literal(SNAPSHOT_VERSION),
    width: z.number().int().min(SURFACE_LIMITS.minWidth).max(SURFACE_LIMITS.maxWidth),
    height: z.number().int().min(SURFACE_LIMITS.minHeight).max(SURFACE_LIMITS.maxHeight),
    cells: z.array(
      z.tuple([
        z
          .number()
          .int()
          .min(0)
          .max(COLS * ROWS - 1),
        z.string().min(1).max(MAX_CELL_CHARS),
      ]),
    ),
    colWidths: z.array(z.number().int().min(MIN_COL_WIDTH).max(MAX_COL_WIDTH)).length(COLS),
    cursor: cell,
    extent: cell,
    edit: z.string().max(MAX_CELL_CHARS).nullable(),
    scrollRow: z
      .number()
      .int()
      .min(0)
      .max(ROWS - 1),
    scrollCol: z
      .number()
      .int()
      .min(0)
      .max(COLS - 1),
    drag: z.discriminatedUnion('kind', [
      z.object({ kind: z.literal('none') }).strict(),
      z.object({ kind: z.literal('select') }).strict(),
      z
        .object({
          kind: z.literal('resize'),
          col: z
            .number()
            .int()
            .min(0)
            .max(COLS - 1),
          fromX: coord,
          fromWidth: z.number().int().min(MIN_COL_WIDTH).max(MAX_COL_WIDTH),
        })
        .strict(),
    ]),
  })
  .strict();

const canonicalDrag = (d: Drag): Drag =>
  d.kind === 'resize' ? { kind: 'resize', col: d.col, fromX: d.fromX, fromWidth: d.fromWidth } : { kind: d.kind };

export function encodeSnapshot(s: SheetState): Uint8Array {
  return encodeUtf8(
    JSON.stringify({
      app: 'sheet',
      v: SNAPSHOT_VERSION,
      width: s.width,
      height: s.height,
      cells: [...s.cells.entries()].sort((a, b) => a[0] - b[0]),
      colWidths: s.colWidths,
      cursor: { col: s.cursor.col, row: s.cursor.row },
      extent: { col: s.extent.col, row: s.extent.row },
      edit: s.edit,
      scrollRow: s.scrollRow,
      scrollCol: s.scrollCol,
      drag: canonicalDrag(s.drag),
    }),
  );
}

export function decodeSnapshot(data: Uint8Array): SheetState {
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(data));
  } catch (err) {
    throw new Error(`sheet snapshot: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = SnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`sheet snapshot: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const { app: _app, v: _v, cells, ...rest } = parsed.data;
  const map = new Map<number, string>();
  for (const [key, text] of cells) {
    if (map.has(key)) throw new Error(`sheet snapshot: cell ${key} appears twice`);
    map.set(key, text);
  }
  return { ...rest, cells: map };
}
