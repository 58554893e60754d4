// Selection geometry: where the two ends of an app's non-empty selection sit
// on its surface, so a touch viewer can draw drag handles there. It travels
// app → renderer status → server → viewers. A renderer may lie about it, so it
// only ever positions UI: a handle drag sends ordinary pointer inputs that
// every replica interprets against its own state.
import { z } from 'zod';
import { LIMITS } from './limits.js';

/** Same range as input coordinates: an end scrolled off the surface is still reported. */
const coord = z.number().int().min(-100_000).max(100_000);

/** A caret: its x, the top of its line and the line's height, in surface pixels. */
export const CaretRectSchema = z
  .object({ x: coord, y: coord, height: z.number().int().min(1).max(LIMITS.maxViewportHeight) })
  .strict();
export type CaretRect = z.infer<typeof CaretRectSchema>;

/** `anchor` is the end that stays put, `focus` the one that moves with the caret. */
export const SelectionGeometrySchema = z.object({ anchor: CaretRectSchema, focus: CaretRectSchema }).strict();
export type SelectionGeometry = z.infer<typeof SelectionGeometrySchema>;

/** An app's answer, checked: anything malformed or out of bounds counts as no geometry. */
export function parseSelectionGeometry(raw: unknown): SelectionGeometry | null {
  if (raw === null || raw === undefined) return null;
  const parsed = SelectionGeometrySchema.safeParse(raw);
  return parsed.success ? parsed.data : null;
}

export function sameSelection(a: SelectionGeometry | null, b: SelectionGeometry | null): boolean {
  if (a === null || b === null) return a === b;
  const eq = (p: CaretRect, q: CaretRect): boolean => p.x === q.x && p.y === q.y && p.height === q.height;
  return eq(a.anchor, b.anchor) && eq(a.focus, b.focus);
}
