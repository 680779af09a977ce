/**
 * The token request counter by outcome (internal/metrics.ts): tagged `outcome`, and built once per outcome. Each test
 * uses an outcome of its own, so that its first use (where the counter is built) is in the test.
 */
import { assert, describe, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import * as metrics from "../../src/internal/metrics.js"

describe("metrics (mutation)", () => {
  it.effect("tokenRequestsBy counts in oauth2_token_requests tagged outcome=<the outcome>", () =>
    Effect.gen(function*() {
      const outcome = "MutationProbeTagged"
      yield* Metric.incrementBy(metrics.tokenRequestsBy(outcome), 3)
      const state = yield* Metric.value(Metric.tagged(metrics.tokenRequests, "outcome", outcome))
      assert.strictEqual(state.count, 3)
      const pairs = yield* Metric.snapshot
      const tagged = pairs.filter((pair) =>
        pair.metricKey.name === "oauth2_token_requests" && pair.metricKey.tags.some((tag) => tag.value === outcome)
      )
      assert.deepStrictEqual(tagged.map((pair) => pair.metricKey.tags.map((tag) => [tag.key, tag.value])), [[[
        "outcome",
        outcome
      ]]])
    }))

  it("tokenRequestsBy builds the counter of an outcome once and returns that one afterwards", () => {
    const counter = metrics.tokenRequestsBy("MutationProbeOnce")
    assert.strictEqual(metrics.tokenRequestsBy("MutationProbeOnce"), counter)
    assert.notStrictEqual(metrics.tokenRequestsBy("MutationProbeOther"), counter)
  })
})
