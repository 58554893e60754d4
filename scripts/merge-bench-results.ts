// Resolves a merge conflict in bench/results/latest.json: each benchmark's
// figures are taken whole from the side that measured them last
// (bench/lib/results-merge.ts), then latest.json, latest.md and the dated copy
// are rewritten. During a conflicted merge:
//   git show :2:bench/results/latest.json > /tmp/ours.json
//   git show :3:bench/results/latest.json > /tmp/theirs.json
//   npx tsx scripts/merge-bench-results.ts /tmp/ours.json /tmp/theirs.json
//   npx tsx scripts/readme-figures.ts
import { readFileSync } from 'node:fs';
import { z } from 'zod';
import { mergeResults } from '../bench/lib/results-merge.js';
import { writeResults, type BenchResult } from '../bench/lib/report.js';

const ResultsFile = z.object({
  results: z.array(
    z
      .object({
        name: z.string(),
        value: z.number(),
        unit: z.string(),
        detail: z.record(z.union([z.number(), z.string()])).optional(),
        measured: z.object({ date: z.string(), machine: z.string(), loadAverage1m: z.number() }).optional(),
      })
      .strict(),
  ),
});

function read(path: string): BenchResult[] {
  return ResultsFile.parse(JSON.parse(readFileSync(path, 'utf8'))).results;
}

const [ours, theirs] = process.argv.slice(2);
if (ours === undefined || theirs === undefined) {
  console.error('usage: tsx scripts/merge-bench-results.ts <ours latest.json> <theirs latest.json>');
  process.exit(2);
}
const files = writeResults(mergeResults(read(ours), read(theirs)));
console.log(`written: ${files.json}\n         ${files.markdown}\n         ${files.dated}`);
