/**
 * How many runs a fuzz property makes: `FUZZ_RUNS` when set (`npm run fuzz` sets it high),
 * else the bounded number `npm test` uses.
 */
export function fuzzRuns(bounded: number): number {
  const n = Number(process.env.FUZZ_RUNS);
  return Number.isInteger(n) && n > 0 ? n : bounded;
}
