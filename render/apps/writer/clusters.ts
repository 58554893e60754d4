// User-perceived characters ("clusters"): a base code point plus combining
// marks, variation selectors, emoji modifiers and ZWJ-joined code points.
// The rules use fixed code point ranges instead of Intl.Segmenter or \p{...}
// so caret positions never depend on the host's ICU/Unicode tables.

const ZWJ = 0x200d;

function isRegionalIndicator(cp: number): boolean {
  return cp >= 0x1f1e6 && cp <= 0x1f1ff;
}

/** Code points that attach to the preceding cluster. */
export function isExtender(cp: number): boolean {
  return (
    (cp >= 0x0300 && cp <= 0x036f) ||
    (cp >= 0x0483 && cp <= 0x0489) ||
    (cp >= 0x0591 && cp <= 0x05bd) ||
    (cp >= 0x0610 && cp <= 0x061a) ||
    (cp >= 0x064b && cp <= 0x065f) ||
    cp === 0x0670 ||
    (cp >= 0x0900 && cp <= 0x0903) ||
    (cp >= 0x093a && cp <= 0x094f) ||
    cp === 0x0e31 ||
    (cp >= 0x0e34 && cp <= 0x0e3a) ||
    (cp >= 0x0e47 && cp <= 0x0e4e) ||
    (cp >= 0x1ab0 && cp <= 0x1aff) ||
    (cp >= 0x1dc0 && cp <= 0x1dff) ||
    cp === 0x200c ||
    cp === ZWJ ||
    (cp >= 0x20d0 && cp <= 0x20ff) ||
    (cp >= 0x3099 && cp <= 0x309a) ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xfe20 && cp <= 0xfe2f) ||
    (cp >= 0x1f3fb && cp <= 0x1f3ff) ||
    (cp >= 0xe0020 && cp <= 0xe007f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  );
}

/** Invisible format characters: never drawn on their own. */
export function isDefaultIgnorable(cp: number): boolean {
  return (
    cp === 0x200b ||
    cp === 0x200c ||
    cp === ZWJ ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    (cp >= 0xe0020 && cp <= 0xe007f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  );
}

function cpAt(text: string, i: number): number {
  return text.codePointAt(i) ?? 0;
}

function cpSize(cp: number): number {
  return cp > 0xffff ? 2 : 1;
}

/** End offset of the cluster starting at `i` (which must be a cluster start). */
export function nextBoundary(text: string, i: number): number {
  const len = text.length;
  if (i >= len) return len;
  const first = cpAt(text, i);
  let j = i + cpSize(first);
  if (first === 0x0a) return j;
  if (isRegionalIndicator(first) && j < len && isRegionalIndicator(cpAt(text, j))) j += 2;
  while (j < len) {
    const cp = cpAt(text, j);
    if (cp === 0x0a) break;
    const joined = text.charCodeAt(j - 1) === ZWJ;
    if (!isExtender(cp) && !joined) break;
    j += cpSize(cp);
  }
  return j;
}

/**
 * A position at or before `i` where a cluster certainly starts: not inside a
 * surrogate pair, not an extender, not after a ZWJ, not in a regional
 * indicator run (whose pairing depends on parity from the run's start).
 */
function safeStart(text: string, i: number): number {
  let k = Math.max(0, Math.min(i, text.length));
  while (k > 0) {
    const unit = text.charCodeAt(k);
    if (unit >= 0xdc00 && unit <= 0xdfff && k < text.length) {
      k--;
      continue;
    }
    if (k >= text.length) {
      k--;
      continue;
    }
    const cp = cpAt(text, k);
    const prev = text.charCodeAt(k - 1);
    if (cp === 0x0a || prev === 0x0a) return k;
    if (isExtender(cp) || prev === ZWJ || isRegionalIndicator(cp)) {
      k--;
      continue;
    }
    return k;
  }
  return 0;
}

/** Start offset of the cluster that ends at (or contains) `i`. */
export function prevBoundary(text: string, i: number): number {
  if (i <= 0) return 0;
  let b = safeStart(text, i - 1);
  for (;;) {
    const n = nextBoundary(text, b);
    if (n >= i) return b;
    b = n;
  }
}

/** The nearest cluster boundary at or after `i` (clamped to the text). */
export function snapToBoundary(text: string, i: number): number {
  if (i <= 0) return 0;
  if (i >= text.length) return text.length;
  let b = safeStart(text, i);
  while (b < i) b = nextBoundary(text, b);
  return b;
}

export function isBoundary(text: string, i: number): boolean {
  return Number.isInteger(i) && i >= 0 && i <= text.length && snapToBoundary(text, i) === i;
}

/** Calls `fn` for each cluster in [start, end); `start` must be a boundary. */
export function forEachCluster(
  text: string,
  start: number,
  end: number,
  fn: (cluster: string, at: number, next: number) => void,
): void {
  let i = start;
  while (i < end) {
    const n = nextBoundary(text, i);
    fn(text.slice(i, n), i, n);
    i = n;
  }
}

export function clusterCount(text: string, start = 0, end = text.length): number {
  let n = 0;
  forEachCluster(text, start, end, () => {
    n++;
  });
  return n;
}

export type ClusterClass = 'newline' | 'space' | 'punct' | 'word';

/** Whitespace that wrapping may break after (NBSP deliberately excluded). */
export function isBreakingSpace(cp: number): boolean {
  return cp === 0x20 || cp === 0x09 || cp === 0x3000 || (cp >= 0x2000 && cp <= 0x200a) || cp === 0x205f;
}

function isPunct(cp: number): boolean {
  return (
    (cp >= 0x21 && cp <= 0x2f) ||
    (cp >= 0x3a && cp <= 0x40) ||
    (cp >= 0x5b && cp <= 0x60 && cp !== 0x5f) ||
    (cp >= 0x7b && cp <= 0x7e) ||
    (cp >= 0xa1 && cp <= 0xbf && cp !== 0xaa && cp !== 0xb5 && cp !== 0xba) ||
    cp === 0xd7 ||
    cp === 0xf7 ||
    (cp >= 0x2010 && cp <= 0x205e) ||
    (cp >= 0x3001 && cp <= 0x3003) ||
    (cp >= 0x3008 && cp <= 0x3011) ||
    (cp >= 0xff01 && cp <= 0xff0f)
  );
}

/** Word-jump and double-click classes, from the cluster's base code point. */
export function classOf(cluster: string): ClusterClass {
  const cp = cluster.codePointAt(0) ?? 0;
  if (cp === 0x0a) return 'newline';
  if (isBreakingSpace(cp) || cp === 0xa0) return 'space';
  if (isPunct(cp)) return 'punct';
  return 'word';
}

/** East Asian wide characters and pictographs: a line may break around each one. */
export function isWide(cp: number): boolean {
  return (
    (cp >= 0x1100 && cp <= 0x115f) ||
    (cp >= 0x2e80 && cp <= 0x303e) ||
    (cp >= 0x3041 && cp <= 0x33ff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0xa000 && cp <= 0xa4cf) ||
    (cp >= 0xac00 && cp <= 0xd7a3) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0xfe30 && cp <= 0xfe4f) ||
    (cp >= 0xff00 && cp <= 0xff60) ||
    (cp >= 0xffe0 && cp <= 0xffe6) ||
    (cp >= 0x1f300 && cp <= 0x1f64f) ||
    (cp >= 0x1f900 && cp <= 0x1f9ff) ||
    (cp >= 0x20000 && cp <= 0x3fffd)
  );
}
