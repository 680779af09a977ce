/**
 * The retry rule (internal/retry.ts) at the edge of its budget: a server's Retry-After that would end exactly at
 * the budget is not waited for, one that ends a millisecond before it is.
 */
import { OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Schedule, TestClock } from "effect"
import * as retry from "../../src/internal/retry.js"

const tokenUrl = "https://as.example/token"

const policy: retry.Policy = {
  schedule: Schedule.recurs(3),
  while: () => true,
  retryAfterCapMillis: 60_000,
  budgetMillis: 10_000
}

/** A first attempt refused with `Retry-After` (`retryAfter` ms), then a success. */
const refusedOnce = (retryAfter: number) => {
  let attempts = 0
  const refusal = new OAuth2Error.ErrorResponse({
    tokenEndpoint: tokenUrl,
    status: 503,
    error: "temporarily_unavailable",
    retryAfter
  })
  const effect = Effect.suspend(() => ++attempts === 1 ? Effect.fail(refusal) : Effect.succeed("token"))
  return { effect, refusal, attempts: () => attempts }
}

describe("retry budget (mutation)", () => {
  it.effect("a Retry-After that ends exactly at the budget is not waited for: the refusal is the result at once", () =>
    Effect.gen(function*() {
      const r = refusedOnce(10_000)
      const fiber = yield* Effect.fork(retry.retrying(r.effect, policy, "token request"))
      yield* Effect.repeatN(Effect.yieldNow(), 10) // no Clock time passes
      const exit = yield* Fiber.poll(fiber)
      assert.isTrue(Option.isSome(exit), "answered without waiting")
      assert.deepStrictEqual(Option.getOrThrow(exit), Exit.fail(r.refusal))
      assert.strictEqual(r.attempts(), 1)
    }))

  it.effect("a Retry-After that ends 1 ms before the budget is waited for, then the request is retried", () =>
    Effect.gen(function*() {
      const r = refusedOnce(9_999)
      const fiber = yield* Effect.fork(retry.retrying(r.effect, policy, "token request"))
      yield* TestClock.adjust("9998 millis")
      assert.strictEqual(r.attempts(), 1) // still waiting for the server's Retry-After
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), "token")
      assert.strictEqual(r.attempts(), 2)
    }))
})
