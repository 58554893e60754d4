// bench/lib/cpu-profile.ts: a V8 CPU profile summed per function, self and inclusive, in ms per second.
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { summarizeProfile, type CpuProfile } from '../../bench/lib/cpu-profile.js';

const frame = (functionName: string, url = 'http://x/viewer.js', lineNumber = 0) => ({ functionName, url, lineNumber });

test('self and inclusive time per function; recursion counted once per sample; per second of the profile', () => {
  // root → a → b → a (recursion), root → c; samples: b, a(inner), c, idle; each 1000 µs (the last one's is unknown).
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame('(root)', ''), children: [2, 5, 6] },
      { id: 2, callFrame: frame('a', 'http://x/viewer.js', 9), children: [3] },
      { id: 3, callFrame: frame('b', 'http://x/viewer.js', 19), children: [4] },
      { id: 4, callFrame: frame('a', 'http://x/viewer.js', 9) },
      { id: 5, callFrame: frame('c', 'http://x/lib/tile.js', 4) },
      { id: 6, callFrame: frame('(idle)', '') },
    ],
    startTime: 0,
    endTime: 500_000, // half a second
    samples: [3, 4, 5, 6, 6],
    timeDeltas: [0, 1000, 1000, 1000, 1000],
  };
  const rows = new Map(summarizeProfile(profile).map((r) => [r.fn, r]));
  assert.deepEqual(rows.get('a viewer.js:10'), { fn: 'a viewer.js:10', selfMsPerS: 2, totalMsPerS: 4 });
  assert.deepEqual(rows.get('b viewer.js:20'), { fn: 'b viewer.js:20', selfMsPerS: 2, totalMsPerS: 4 });
  assert.deepEqual(rows.get('c tile.js:5'), { fn: 'c tile.js:5', selfMsPerS: 2, totalMsPerS: 2 });
  assert.equal(rows.get('(idle)')?.totalMsPerS, 2, 'the last sample has no known duration');
  assert.equal(rows.has('(root)'), false);
  assert.equal(summarizeProfile(profile, 2).length, 2);
});
