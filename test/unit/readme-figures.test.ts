// README's benchmark figures are generated from bench/results/latest.json
// (scripts/readme-figures.ts): a hand edit of the block, or a bench run whose
// figures were not regenerated into it, fails here.
import { strict as assert } from 'node:assert';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import {
  BEGIN,
  currentBlock,
  END,
  figuresBlock,
  readLatest,
  README,
  ReadmeBlockMissingError,
  withBlock,
  type Latest,
} from '../../scripts/readme-figures.js';

const machine = {
  cpuModel: 'Test CPU',
  cores: 2,
  totalMemoryMB: 1024,
  node: 'v20',
  os: 'linux',
  loadAverage1m: 1.5,
  date: '2026-12-02T00:00:00.000Z',
};

test("README's figures block is exactly what latest.json generates", () => {
  assert.equal(currentBlock(readFileSync(README, 'utf8')), figuresBlock(readLatest()));
});

test('a figure shows its value and its own date and load; a missing one says so', () => {
  const latest: Latest = {
    machine,
    results: [
      {
        name: 'pipeline.1280x720.frame-total',
        value: 7.5,
        unit: 'ms',
        measured: { date: '2026-11-30T10:20:00.000Z', machine: 'x', loadAverage1m: 0.4 },
      },
    ],
  };
  const block = figuresBlock(latest);
  assert.match(block, /\| 7\.5 ms \| 2026-11-30 10:20, 0\.4 \|/);
  assert.match(block, /latency \(stamp\), 1280×720[^\n]*\| not measured \|/);
});

test('the latency and viewer-cost rows say which frame stamps their viewer read (older runs: frame callbacks)', () => {
  const withStamps = (stamps?: string): Latest => ({
    machine,
    results: [
      { name: 'latency.1280x720.warm.p50', value: 15, unit: 'ms', ...(stamps ? { detail: { stamps } } : {}) },
      { name: 'peer.viewer-cpu.lockstep', value: 13, unit: '% of a core', ...(stamps ? { detail: { stamps } } : {}) },
    ],
  });
  const before = figuresBlock(withStamps());
  assert.match(before, /latency \(stamp\), 1280×720[^\n]*to the frame presented/);
  assert.match(before, /Lockstep's stamps: frame callbacks/);
  const processor = figuresBlock(
    withStamps('track processor (product default): samples end when the frame is decoded'),
  );
  assert.match(processor, /latency \(stamp\), 1280×720[^\n]*to the frame decoded/);
  assert.match(processor, /Lockstep's stamps: track processor/);
  const frame = figuresBlock(withStamps('frame callbacks: samples end when the frame is presented'));
  assert.match(frame, /latency \(stamp\), 1280×720[^\n]*to the frame presented/);
});

test('a changed figure changes the block (a hand-typed number cannot pass)', () => {
  const one = (value: number): Latest => ({
    machine,
    results: [{ name: 'peer.noVNC.p50', value, unit: 'ms' }],
  });
  assert.notEqual(figuresBlock(one(37)), figuresBlock(one(38)));
});

test('rewriting replaces only the block; a README without markers is a typed error', () => {
  const doc = `intro\n${BEGIN}\nold\n${END}\noutro\n`;
  assert.equal(withBlock(doc, `${BEGIN}\nnew\n${END}`), `intro\n${BEGIN}\nnew\n${END}\noutro\n`);
  assert.throws(() => withBlock('no markers', 'x'), ReadmeBlockMissingError);
});
