// Seeded randomness for tests: the same generator `lockstep app check` uses.
export { prng, type Rnd } from '../../render/app-check/prng.js';
