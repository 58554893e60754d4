// The seeded PRNG the chaos schedule uses (scripts/lib/prng.ts), so random tests replay from their seed.
export { prng, type Rnd } from '../../scripts/lib/prng.js';
