// What the status bar reports: word and character counts, caret line:column.
import { classOf, clusterCount, forEachCluster, isWide } from './clusters.js';

export interface TextCounts {
  words: number;
  /** User-perceived characters, line breaks excluded. */
  characters: number;
}

/**
 * Words are runs of letters/digits between whitespace (inner punctuation as
 * in "don't" stays inside a word); each CJK character counts as one word.
 */
export function countText(text: string): TextCounts {
  let words = 0;
  let characters = 0;
  let inWord = false;
  forEachCluster(text, 0, text.length, (cluster) => {
    const cls = classOf(cluster);
    if (cls === 'newline') {
      inWord = false;
      return;
    }
    characters++;
    if (cls === 'space') inWord = false;
    else if (cls === 'word') {
      if (isWide(cluster.codePointAt(0) ?? 0)) {
        words++;
        inWord = false;
      } else if (!inWord) {
        words++;
        inWord = true;
      }
    }
  });
  return { words, characters };
}

let lastText: string | null = null;
let lastCounts: TextCounts = { words: 0, characters: 0 };

/** countText, remembered for the last text seen (the render path calls it every frame). */
export function countTextCached(text: string): TextCounts {
  if (text !== lastText) {
    lastCounts = countText(text);
    lastText = text;
  }
  return lastCounts;
}

/** 1-based paragraph number and column (in characters) of `offset`. */
export function lineColumnAt(text: string, offset: number): { line: number; column: number } {
  let line = 1;
  let start = 0;
  for (let nl = text.indexOf('\n'); nl !== -1 && nl < offset; nl = text.indexOf('\n', nl + 1)) {
    line++;
    start = nl + 1;
  }
  return { line, column: clusterCount(text, start, offset) + 1 };
}
