// mulberry32: a tiny seeded PRNG, so random runs (tests, the chaos schedule) replay exactly from their
// seed. Tests may be random; apps may not.
export type Rnd = () => number;

export function prng(seed: number): Rnd {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
