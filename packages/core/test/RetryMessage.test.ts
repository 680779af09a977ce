import { OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { failure, failureOf, run } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

const unavailable = () => ({ status: 503, json: { error: "server_error" } })
const every100ms = { schedule: Schedule.spaced(Duration.millis(100)).pipe(Schedule.intersect(Schedule.recurs(3))) }

describe("the error of a retried token request says how many attempts, over how long, and what to check", () => {
  it.effect("an endpoint down through every retry: attempts and time in the fields and in the message", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(run(unavailable, { retry: every100ms }))
      yield* TestClock.adjust(Duration.seconds(1))
      const { exit, requests } = yield* Fiber.join(fiber)
      const error = failureOf(exit, "ErrorResponse")
      assert.strictEqual(requests.length, 4)
      assert.deepStrictEqual(error.retries, { attempts: 4, elapsedMillis: 300 })
      assert.include(error.message, "Gave up after 4 attempts over 300ms")
      assert.include(error.message, "check that the token endpoint is up and reachable from this host")
    }))

  it.effect("connection failures: a TransportError with the same account", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(run(() => TestHttp.transportError(), { retry: every100ms }))
      yield* TestClock.adjust(Duration.seconds(1))
      const error = failureOf((yield* Fiber.join(fiber)).exit, "TransportError")
      assert.deepStrictEqual(error.retries, { attempts: 4, elapsedMillis: 300 })
      assert.include(error.message, "connection refused. Gave up after 4 attempts over 300ms")
    }))

  it.effect("a budget spent: the TimeoutError counts the attempt cut short", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(run(unavailable, { retry: { ...every100ms, budget: Duration.millis(250) } }))
      yield* TestClock.adjust(Duration.seconds(1))
      const error = failureOf((yield* Fiber.join(fiber)).exit, "TimeoutError")
      assert.strictEqual(error.stage, "budget")
      assert.deepStrictEqual(error.retries, { attempts: 3, elapsedMillis: 250 })
      assert.include(error.message, "timed out after 250ms. Gave up after 3 attempts over 250ms")
    }))

  it.effect("a budget shorter than the attempt timeout bounds the first attempt too", () =>
    Effect.gen(function*() {
      const fiber = yield* Effect.fork(
        run(() => Effect.never, {
          timeout: Duration.seconds(10),
          retry: { ...every100ms, budget: Duration.seconds(1) }
        })
      )
      yield* TestClock.adjust(Duration.millis(999))
      assert.isNull(fiber.unsafePoll())
      yield* TestClock.adjust(Duration.millis(1))
      const { exit, requests } = yield* Fiber.join(fiber)
      const error = failureOf(exit, "TimeoutError")
      assert.strictEqual(error.stage, "budget")
      assert.strictEqual(requests.length, 1)
    }))

  it.effect("one attempt (a definite refusal, or no retry): no account, the message as before", () =>
    Effect.gen(function*() {
      const refused = failure(
        (yield* run(() => ({ status: 401, json: { error: "invalid_client" } }), {
          retry: every100ms
        })).exit
      )
      assert.isTrue(OAuth2Error.isErrorResponse(refused))
      assert.isUndefined((refused as OAuth2Error.ErrorResponse).retries)
      assert.notInclude(refused.message, "Gave up")
    }))
})
