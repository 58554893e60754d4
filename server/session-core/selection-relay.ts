// Which selection-geometry reports are forwarded to viewers. The geometry is a
// function of the replica's state, so it can only change when its applied seq
// moves: a change at the same (or an older) seq is a lying or confused renderer
// and is dropped. That bounds what one renderer can push to viewers by the
// session's input rate. Nothing here is trusted for anything but handles.
import { sameSelection, type SelectionGeometry } from '../../protocol/selection.js';

export interface SelectionAt {
  seq: number;
  geometry: SelectionGeometry | null;
}

/** Records `geometry` at `seq` on `holder`; true when viewers should be told (it changed at a newer seq). */
export function noteSelection(
  holder: { selection?: SelectionAt },
  seq: number,
  geometry: SelectionGeometry | null,
): boolean {
  const last = holder.selection;
  if (last && (seq <= last.seq || sameSelection(last.geometry, geometry))) {
    if (seq > last.seq) last.seq = seq;
    return false;
  }
  holder.selection = { seq, geometry };
  return last !== undefined || geometry !== null;
}
