// Canonical snapshot bytes: JSON with a fixed key order and a version field.
// Restore validates everything, because a snapshot may come from another host.
import { z } from 'zod';
import { decodeUtf8, encodeUtf8, SURFACE_LIMITS } from '../../sdk/index.js';
import { isBoundary } from './clusters.js';
import { MAX_TEXT_LENGTH, sanitizeText } from './document.js';
import type { WriterState } from './state.js';

export const SNAPSHOT_VERSION = 1;

const offset = z.number().int().min(0).max(MAX_TEXT_LENGTH);

const SnapshotSchema = z
  .object({
    app: z.literal('writer'),
    v: z.literal(SNAPSHOT_VERSION),
    width: z.number().int().min(SURFACE_LIMITS.minWidth).max(SURFACE_LIMITS.maxWidth),
    height: z.number().int().min(SURFACE_LIMITS.minHeight).max(SURFACE_LIMITS.maxHeight),
    text: z.string().max(MAX_TEXT_LENGTH),
    caret: offset,
    anchor: offset,
    goalX: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).nullable(),
    scrollY: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    drag: z.enum(['none', 'char', 'word', 'paragraph']),
    dragFrom: offset,
    dragTo: offset,
  })
  .strict();

export function encodeSnapshot(s: WriterState): Uint8Array {
  // Keys listed explicitly: the byte order must not depend on how the state object was built.
  const canonical = {
    app: 'writer',
    v: SNAPSHOT_VERSION,
    width: s.width,
    height: s.height,
    text: s.text,
    caret: s.caret,
    anchor: s.anchor,
    goalX: s.goalX,
    scrollY: s.scrollY,
    drag: s.drag,
    dragFrom: s.dragFrom,
    dragTo: s.dragTo,
  };
  return encodeUtf8(JSON.stringify(canonical));
}

export function decodeSnapshot(data: Uint8Array): WriterState {
  let raw: unknown;
  try {
    raw = JSON.parse(decodeUtf8(data));
  } catch (err) {
    throw new Error(`writer snapshot: not JSON (${err instanceof Error ? err.message : String(err)})`);
  }
  const parsed = SnapshotSchema.safeParse(raw);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new Error(`writer snapshot: ${issue ? `${issue.path.join('.') || '(root)'}: ${issue.message}` : 'invalid'}`);
  }
  const { app: _app, v: _v, ...state } = parsed.data;
  if (sanitizeText(state.text) !== state.text)
    throw new Error('writer snapshot: text holds characters a document cannot');
  for (const key of ['caret', 'anchor', 'dragFrom', 'dragTo'] as const) {
    if (!isBoundary(state.text, state[key]))
      throw new Error(`writer snapshot: ${key} is not a character boundary in the text`);
  }
  const picking = state.drag === 'word' || state.drag === 'paragraph';
  if (picking ? state.dragFrom > state.dragTo : state.dragFrom !== 0 || state.dragTo !== 0) {
    throw new Error('writer snapshot: dragFrom/dragTo do not match the drag mode');
  }
  return state;
}
