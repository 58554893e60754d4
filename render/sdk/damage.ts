// Damage: which parts of the surface a frame repainted. The host passes each
// render a FrameInfo; an app that remembers what it drew in frame `over` may
// return the rectangles whose pixels can differ from that frame, and the host
// then reads back and converts only those rows. Returning nothing (or anything
// the host cannot use) means "all of it": the safe default, and what every app
// that ignores FrameInfo gets. The app still draws the whole surface; damage
// only says where the result may differ from frame `over`.

/** A rectangle in surface pixels. */
export interface Rect {
  x: number;
  y: number;
  width: number;
  height: number;
}

/** What the host's surface holds when `render` is called. */
export interface FrameInfo {
  /** This frame's id (unique in the process). */
  readonly id: number;
  /**
   * The id of the frame the surface shows now: damage is relative to it. Null: the host holds no frame of
   * this state it can reuse (first frame, a resize, a resume); whatever is returned, all of it is read back.
   */
  readonly over: number | null;
}

/** One area a frame draws: `key` is everything its pixels depend on (equal keys, equal pixels). */
export interface FramePart {
  readonly id: string;
  readonly rect: Rect;
  readonly key: string;
}

interface Drawn {
  frame: number;
  parts: Map<string, FramePart>;
}

/**
 * Keeps the parts of the last frame drawn for a surface and reports what changed since. Every pixel a frame
 * draws must lie in a part whose key determines it (pixels outside all parts must never change), and parts may
 * overlap: a part whose key or rect changed, appeared or went damages its old and new rect.
 */
export class DamageTracker {
  #last: Drawn | undefined;

  /**
   * The damage of a frame made of `parts` (plus `extra` rects the caller worked out itself), or undefined
   * (all of it) when `frame` is absent or its `over` is not the frame this tracker saw last. A render
   * without FrameInfo (an export) leaves the memory alone: the host's surface did not get that drawing.
   */
  frame(frame: FrameInfo | undefined, parts: readonly FramePart[], extra: readonly Rect[] = []): Rect[] | undefined {
    if (!frame) return undefined;
    const now = new Map<string, FramePart>();
    for (const p of parts) now.set(p.id, p);
    const last = this.#last;
    this.#last = { frame: frame.id, parts: now };
    if (frame.over === null || last?.frame !== frame.over) return undefined;
    const damage: Rect[] = [...extra];
    for (const [id, p] of now) {
      const was = last.parts.get(id);
      if (!was) damage.push(p.rect);
      else if (was.key !== p.key || !sameRect(was.rect, p.rect)) damage.push(was.rect, p.rect);
    }
    for (const [id, was] of last.parts) if (!now.has(id)) damage.push(was.rect);
    return damage;
  }

  /** Forgets the last frame (the next one is reported as all damaged). */
  reset(): void {
    this.#last = undefined;
  }
}

function sameRect(a: Rect, b: Rect): boolean {
  return a.x === b.x && a.y === b.y && a.width === b.width && a.height === b.height;
}
