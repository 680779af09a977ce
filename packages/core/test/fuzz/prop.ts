/** What the fuzzers share: the number of runs and a chunked `it.prop`. */
import { it } from "@effect/vitest"
import { FastCheck as fc } from "effect"

/** The number of runs of each property: `FUZZ_RUNS`, 10,000 by default (`npm run fuzz` uses 200,000). */
export const runs = Number(process.env.FUZZ_RUNS ?? 10_000)

/**
 * `it.prop`, run in chunks of 2,000 with a pause between them: a property that runs for a minute without yielding
 * starves the vitest worker's RPC ("Timeout calling onTaskUpdate"). Each chunk has its own seed, derived from
 * FUZZ_SEED when set; a failure reports the chunk's seed and path (replay with FUZZ_SEED=<seed> FUZZ_RUNS=2000).
 */
export const prop = <A extends Record<string, unknown>>(
  name: string,
  arbitraries: { readonly [K in keyof A]: fc.Arbitrary<A[K]> },
  predicate: (input: A) => void,
  numRuns: number
) =>
  it(name, async () => {
    const chunk = 2_000
    const seed = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : Date.now() % 0x7fffffff
    const property = fc.property(fc.record(arbitraries) as fc.Arbitrary<A>, predicate)
    for (let done = 0, round = 0; done < numRuns; done += chunk, round++) {
      fc.assert(property, { numRuns: Math.min(chunk, numRuns - done), seed: (seed + round) | 0 })
      await new Promise((resolve) => setImmediate(resolve))
    }
  }, 600_000)
