// Benchmark results: one shape for every figure, percentile helpers, a
// description of the machine, and the writer of bench/results/*.json|md.
// Benchmarks never fail on a number: they report it with its unit.
import { mkdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, platform, release, totalmem } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export type Detail = Record<string, number | string>;

/** When, where and under what load one figure was measured (a partial run keeps the others' own). */
export interface Measured {
  date: string;
  machine: string;
  loadAverage1m: number;
}

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  detail?: Detail;
  measured?: Measured;
}

export interface MachineInfo {
  cpuModel: string;
  cores: number;
  totalMemoryMB: number;
  node: string;
  os: string;
  /** 1-minute load average when the results were written (other work skews timings). */
  loadAverage1m: number;
  date: string;
}

export const RESULTS_DIR = join(dirname(fileURLToPath(import.meta.url)), '..', 'results');

/** Rounds to `digits` decimals (numbers in reports stay readable). */
export function round(n: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(n * f) / f;
}

/** Nearest-rank percentile (p in 0..100) of an unsorted sample; NaN when empty. */
export function percentile(values: readonly number[], p: number): number {
  if (values.length === 0) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))] ?? Number.NaN;
}

export interface Summary {
  n: number;
  mean: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
}

export function summarize(values: readonly number[]): Summary {
  const n = values.length;
  const mean = n === 0 ? Number.NaN : values.reduce((a, b) => a + b, 0) / n;
  return {
    n,
    mean: round(mean, 3),
    p50: round(percentile(values, 50), 3),
    p95: round(percentile(values, 95), 3),
    p99: round(percentile(values, 99), 3),
    max: round(n === 0 ? Number.NaN : Math.max(...values), 3),
  };
}

export interface TimedSummary extends Summary {
  /** Observations that timed out: they enter the percentiles at the timeout value. */
  timeouts: number;
}

/**
 * Summary of observations where null means "timed out": a timeout is not
 * dropped (that would flatter the tail) but counted at `timeoutMs`.
 */
export function summarizeWithTimeouts(values: ReadonlyArray<number | null>, timeoutMs: number): TimedSummary {
  const timeouts = values.filter((v) => v === null).length;
  return { ...summarize(values.map((v) => v ?? timeoutMs)), timeouts };
}

export function measuredBy(info: MachineInfo): Measured {
  return {
    date: info.date,
    machine: `${info.cpuModel} (${info.cores} cores, ${info.totalMemoryMB} MB), Node ${info.node}`,
    loadAverage1m: info.loadAverage1m,
  };
}

/** Stamps a figure that has no `measured` yet with the given one (figures keep their own). */
export function stamped(r: BenchResult, m: Measured): BenchResult {
  return r.measured ? r : { ...r, measured: m };
}

export function machine(): MachineInfo {
  const cpu = cpus();
  return {
    cpuModel: cpu[0]?.model.trim() ?? 'unknown',
    cores: cpu.length,
    totalMemoryMB: Math.round(totalmem() / 2 ** 20),
    node: process.version,
    os: `${platform()} ${release()}`,
    loadAverage1m: round(loadavg()[0] ?? 0),
    date: new Date().toISOString(),
  };
}

/** 1-minute load average, recorded next to timings that other processes can skew. */
export function load1m(): number {
  return round(loadavg()[0] ?? 0);
}

export function formatResult(r: BenchResult): string {
  return `${r.name}: ${r.value} ${r.unit}`;
}

function formatDetail(detail: Detail | undefined): string {
  if (!detail) return '';
  return Object.entries(detail)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
    .replaceAll('|', '\\|');
}

export function toMarkdown(results: readonly BenchResult[], info: MachineInfo): string {
  const lines = [
    '# Lockstep benchmarks',
    '',
    `- CPU: ${info.cpuModel} (${info.cores} cores)`,
    `- Memory: ${info.totalMemoryMB} MB`,
    `- Node: ${info.node} on ${info.os}`,
    `- Load average (1 min) at the end: ${info.loadAverage1m}`,
    `- Date: ${info.date}`,
    '',
    '| benchmark | value | unit | measured (date, load) | detail |',
    '| --- | ---: | --- | --- | --- |',
    ...results.map(
      (r) =>
        `| ${r.name} | ${r.value} | ${r.unit} | ${r.measured ? `${r.measured.date.slice(0, 16)}, ${r.measured.loadAverage1m}` : ''} | ${formatDetail(r.detail)} |`,
    ),
    '',
  ];
  return lines.join('\n');
}

export interface WrittenFiles {
  json: string;
  markdown: string;
  dated: string;
}

/** Writes latest.json, latest.md and <YYYY-MM-DD>.json under bench/results/. */
export function writeResults(results: readonly BenchResult[], dir = RESULTS_DIR): WrittenFiles {
  mkdirSync(dir, { recursive: true });
  const info = machine();
  const now = measuredBy(info);
  const body = `${JSON.stringify({ machine: info, results: results.map((r) => stamped(r, now)) }, null, 2)}\n`;
  const files: WrittenFiles = {
    json: join(dir, 'latest.json'),
    markdown: join(dir, 'latest.md'),
    dated: join(dir, `${info.date.slice(0, 10)}.json`),
  };
  writeFileSync(files.json, body);
  writeFileSync(files.dated, body);
  writeFileSync(
    files.markdown,
    toMarkdown(
      results.map((r) => stamped(r, now)),
      info,
    ),
  );
  return files;
}

/** A benchmark module's entry point: returns its results, reporting each as it goes. */
export type Benchmark = (report: (r: BenchResult) => void) => Promise<BenchResult[]>;

/** Collects results and forwards each to `onResult` as soon as it exists. */
export function collector(onResult: (r: BenchResult) => void): {
  add: (r: BenchResult) => void;
  results: BenchResult[];
} {
  const results: BenchResult[] = [];
  return {
    results,
    add(r: BenchResult) {
      results.push(r);
      onResult(r);
    },
  };
}

/** True when the module at `metaUrl` is the script node was started with. */
export function isMain(metaUrl: string): boolean {
  const entry = process.argv[1];
  if (!entry) return false;
  const self = fileURLToPath(metaUrl).replace(/\.ts$/, '');
  return self === resolve(entry).replace(/\.ts$/, '');
}
