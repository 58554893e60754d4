// A tiny logger that stays silent unless the page URL carries `?debug`:
// the viewer must not spam the console of a user's laptop.

function debugEnabled(): boolean {
  try {
    return typeof location !== 'undefined' && new URLSearchParams(location.search).has('debug');
  } catch {
    return false;
  }
}

const enabled = debugEnabled();

export interface DebugLog {
  (...args: unknown[]): void;
  readonly enabled: boolean;
}

export function debugLog(scope: string): DebugLog {
  const fn = (...args: unknown[]): void => {
    // eslint-disable-next-line no-console -- gated by ?debug
    if (enabled) console.debug(`[lockstep:${scope}]`, ...args);
  };
  return Object.assign(fn, { enabled });
}
