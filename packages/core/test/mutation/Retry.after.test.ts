/**
 * The retry rule (internal/retry.ts) continuing after a first attempt made earlier (`after`, as the token request
 * uses it): the budget counts from that attempt's start, not from when the retrying begins.
 */
import { OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { Effect, Exit, Fiber, Option, Schedule, TestClock } from "effect"
import * as retry from "../../src/internal/retry.js"

const policy: retry.Policy = {
  schedule: Schedule.recurs(3),
  while: () => true,
  retryAfterCapMillis: 60_000,
  budgetMillis: 10_000
}

const refusal = new OAuth2Error.ErrorResponse({
  tokenEndpoint: "https://as.example/token",
  status: 503,
  error: "temporarily_unavailable",
  retryAfter: 6_000
})

describe("retry after a first attempt (mutation)", () => {
  it.effect("a first attempt that took 5 s leaves 5 s of a 10 s budget: a Retry-After of 6 s is not waited for", () =>
    Effect.gen(function*() {
      let attempts = 0
      const effect = Effect.sync(() => ++attempts)
      yield* TestClock.adjust("5 seconds") // the first attempt, started at 0, failed at 5 s
      const fiber = yield* Effect.fork(
        retry.retrying(effect, policy, "token request", { first: refusal, start: 0 })
      )
      yield* Effect.repeatN(Effect.yieldNow(), 10) // no Clock time passes
      const exit = yield* Fiber.poll(fiber)
      assert.isTrue(Option.isSome(exit), "answered without waiting")
      assert.deepStrictEqual(Option.getOrThrow(exit), Exit.fail(refusal))
      assert.strictEqual(attempts, 0)
    }))

  it.effect("a first attempt that took 3 s leaves 7 s: the 6 s Retry-After is waited for, then the request runs", () =>
    Effect.gen(function*() {
      let attempts = 0
      const effect = Effect.sync(() => ++attempts)
      yield* TestClock.adjust("3 seconds")
      const fiber = yield* Effect.fork(
        retry.retrying(effect, policy, "token request", { first: refusal, start: 0 })
      )
      yield* TestClock.adjust("5999 millis")
      assert.strictEqual(attempts, 0)
      yield* TestClock.adjust("1 millis")
      assert.strictEqual(yield* Fiber.join(fiber), 1)
    }))
})
