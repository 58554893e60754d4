// mulberry32, the seeded PRNG of the chaos schedule: the same generator `lockstep app check` uses.
export { prng, type Rnd } from '../../render/app-check/prng.js';
