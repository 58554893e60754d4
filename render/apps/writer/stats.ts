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

/** Counts per paragraph text: a line break ends any word, so a document's counts are its paragraphs' sum. */
const paragraphCounts = new Map<string, TextCounts>();
/** Bounded (entries and characters): what is cached changes only the speed, never a count. */
const MAX_CACHED_PARAGRAPHS = 5000;
const MAX_CACHED_CHARS = 2_000_000;
let cachedChars = 0;

/**
 * countText, from cached paragraph counts (the render path calls it every frame, and a key press changes
 * one paragraph): the cost per key is the edited paragraph, not the document.
 */
export function countTextCached(text: string): TextCounts {
  if (paragraphCounts.size > MAX_CACHED_PARAGRAPHS || cachedChars > MAX_CACHED_CHARS) {
    paragraphCounts.clear();
    cachedChars = 0;
  }
  let words = 0;
  let characters = 0;
  for (let p = 0; ;) {
    const nl = text.indexOf('\n', p);
    const para = text.slice(p, nl === -1 ? text.length : nl);
    let c = paragraphCounts.get(para);
    if (!c) {
      c = countText(para);
      // A copy as the key: a slice would keep the whole document it was cut from alive.
      paragraphCounts.set(JSON.parse(JSON.stringify(para)) as string, c);
      cachedChars += para.length;
    }
    words += c.words;
    characters += c.characters;
    if (nl === -1) break;
    p = nl + 1;
  }
  return { words, characters };
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
