// The banner of a session whose app failed deterministically (replicas on
// enough hosts failed at the same input): it stays, since nothing runs any
// more; the document up to that input can still be exported.
import type { AppFailure } from '../protocol/replica-failure.js';
import type { Banners } from './banners.js';

const REASONS: Record<AppFailure['reason'], string> = {
  'app-threw': 'it threw an error',
  'app-timeout': 'it ran past its time limit',
  'app-memory': 'it ran out of memory',
  'app-load': 'its code could not be loaded',
};

export function appFailureText(f: AppFailure): string {
  return `The app failed at input ${f.seq}: ${REASONS[f.reason]} (${f.message}). Nothing typed from now on is taken; the work up to that input is kept and can be downloaded.`;
}

/** Shows the failure once per session view (updates keep coming; the banner is not rebuilt for each). */
export function appFailureBanner(banners: Pick<Banners, 'show' | 'clear'>): (failure: AppFailure | undefined) => void {
  let shown: string | null = null;
  return (failure) => {
    const key = failure ? `${failure.seq}|${failure.reason}` : null;
    if (key === shown) return;
    shown = key;
    if (failure) banners.show('error', appFailureText(failure), { key: 'app-failure' });
    else banners.clear('app-failure');
  };
}
