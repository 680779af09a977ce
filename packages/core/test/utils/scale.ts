/**
 * Sizes for the few heavy tests (1,000 keys, 1,000 concurrent callers, thousands of property cases). Under
 * `npm run mutate` (StrykerJS sets `STRYKER_MUTATOR_WORKER` in its workers) they use the smaller size: the rule each
 * test checks is the same, and a surviving mutant reruns every test that covers it, so these few tests would
 * otherwise be a third of the mutation run. `npm test` always uses the full size.
 */
export const underMutation = process.env["STRYKER_MUTATOR_WORKER"] !== undefined

/** `full`, or `small` under the mutation run. */
export const scaled = (full: number, small: number): number => underMutation ? small : full
