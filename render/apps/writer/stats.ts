// Word and character counts of a text (the status bar shows the sums of its paragraphs', see text-index.ts).
import { classOf, forEachCluster, isWide } from './clusters.js';

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
