// Switches without a fault: the default demo shape (3 replicas on 3 renderer
// processes, 1280x720 writer), warm standbys and then hot ones, while a typist
// in headless Chromium types ≥ 1,000 keys at a steady rate and nothing fails. Every
// switch here is a false one; each is reported with what the viewer judged
// had failed on the stream it left (SwitchRecord.cause), so its cause can be
// fixed. Usage: tsx bench/false-switches.ts
// LOCKSTEP_BENCH_FALSE_SWITCH_KEYS (default 1000), _KEYS_PER_SECOND (default 15), _MODES (default warm,hot).
import type { Page } from 'playwright-core';
import { launchChromium, type TestBrowser } from '../scripts/lib/chromium.js';
import { viewerPageState } from '../scripts/lib/viewer-page.js';
import type { SwitchEntry } from '../viewer/lockstep-hook.js';
import { createSession, openBenchViewer, sleep, waitForStreams } from './lib/cluster.js';
import { preload, settled, withCluster } from './latency.js';
import { collector, formatResult, isMain, load1m, round, type BenchResult } from './lib/report.js';

const KEYS = Number(process.env.LOCKSTEP_BENCH_FALSE_SWITCH_KEYS ?? 1000);
const KEYS_PER_SECOND = Number(process.env.LOCKSTEP_BENCH_FALSE_SWITCH_KEYS_PER_SECOND ?? 15);
const REPLICAS = 3;
const MODES = (process.env.LOCKSTEP_BENCH_FALSE_SWITCH_MODES ?? 'warm,hot')
  .split(',')
  .filter((m): m is 'warm' | 'hot' => m === 'warm' || m === 'hot');
const TYPED = 'the quick brown fox jumps over the lazy dog ';

async function switchLog(page: Page): Promise<SwitchEntry[]> {
  return page.evaluate(() => {
    const l = (window as unknown as { __lockstep?: { switches?: SwitchEntry[] } }).__lockstep;
    return (l?.switches ?? []).map((s) => ({ at: s.at, from: s.from, to: s.to, reason: s.reason, cause: s.cause }));
  });
}

export async function runFalseSwitches(onResult: (r: BenchResult) => void = () => {}): Promise<BenchResult[]> {
  const { add, results } = collector(onResult);
  await withCluster(async (c, viewer) => {
    // One session per mode, one after the other, on the same cluster.
    for (const mode of MODES) {
      const sessionId = await createSession(c, viewer, { width: 1280, height: 720, replicationFactor: REPLICAS });
      let browser: TestBrowser | undefined;
      try {
        await preload(viewer, sessionId);
        browser = await launchChromium();
        const page = browser.context.pages()[0] ?? (await browser.context.newPage());
        await openBenchViewer(page, c, sessionId, mode);
        await waitForStreams(page, REPLICAS, mode);
        await settled(page);
        const before = (await switchLog(page)).length;
        const load0 = load1m();
        const t0 = performance.now();
        for (let i = 0; i < KEYS; i++) {
          const wait = t0 + (i * 1000) / KEYS_PER_SECOND - performance.now();
          if (wait > 0) await sleep(wait);
          await page.keyboard.press(TYPED[i % TYPED.length] ?? 'x');
        }
        const typingS = (performance.now() - t0) / 1000;
        await settled(page);
        const st = await viewerPageState(page);
        const switches = (await switchLog(page)).slice(before);
        const causes = new Map<string, number>();
        for (const s of switches) {
          // "stale: input not shown in 312ms" → "stale: input not shown in …ms": one bucket per kind of cause.
          const kind = `${s.reason}: ${(s.cause ?? '-').replace(/\d+/g, '#')}`;
          causes.set(kind, (causes.get(kind) ?? 0) + 1);
        }
        add({
          name: `false-switches.1280x720.${mode}.per-1000-keys`,
          value: round((1000 * switches.length) / KEYS),
          unit: 'switches',
          detail: {
            switches: switches.length,
            keys: KEYS,
            keysPerSecond: round(KEYS / typingS, 1),
            causes: [...causes].map(([k, n]) => `${n}× ${k}`).join('; ') || 'none',
            log: switches.map((s) => `${s.reason}(${s.cause ?? '-'})`).join(' | ') || 'none',
            allShown: String(!!st && st.displayedSeq >= st.ackedSeq),
            load1m: round((load0 + load1m()) / 2),
          },
        });
      } finally {
        await browser?.close();
        // The next mode's session must not share the nodes with this one.
        await viewer.request({ type: 'sessions.close', sessionId }).catch(() => undefined);
      }
    }
  });
  return results;
}

if (isMain(import.meta.url)) {
  runFalseSwitches((r) => console.log(formatResult(r), JSON.stringify(r.detail, null, 1))).catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
