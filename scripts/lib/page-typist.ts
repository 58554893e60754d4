// A scripted typist in the browser viewer: presses one character at a steady
// rate until stopped and remembers what it typed (the chaos runs compare it
// with the final document).
import type { Page } from 'playwright-core';

export interface PageTypist {
  /** Everything typed so far. */
  typed(): string;
  /** Stops after the key being pressed; resolves when the loop has ended. */
  stop(): Promise<void>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function startPageTypist(page: Page, keysPerSecond: number, words: string): PageTypist {
  let typed = '';
  let typing = true;
  const loop = (async () => {
    let i = 0;
    while (typing) {
      const ch = words[i++ % words.length] ?? ' ';
      await page.keyboard.type(ch);
      typed += ch;
      await sleep(1000 / keysPerSecond);
    }
  })();
  return {
    typed: () => typed,
    async stop() {
      typing = false;
      await loop;
    },
  };
}
