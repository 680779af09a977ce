import { ClientAuth, ClientCredentials, type Credentials, type OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import * as Clock from "effect/Clock"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { failureOf, success, tokenUrl } from "./utils/Grant.js"
import * as TestHttp from "./utils/TestHttp.js"

/**
 * Starts the grant (default retry policy unless overridden) in a fiber; `times` records the TestClock time of each
 * attempt.
 */
const start = (handler: TestHttp.Handler, options: Partial<ClientCredentials.Options> = {}) =>
  Effect.gen(function*() {
    const times: Array<number> = []
    const http = TestHttp.make((request, index) => {
      const reply = handler(request, index)
      return Effect.flatMap(Clock.currentTimeMillis, (now) => {
        times.push(now)
        return Effect.isEffect(reply) ? reply : Effect.succeed(reply)
      })
    })
    const fiber = yield* ClientCredentials.grant({
      tokenUrl,
      clientId: "client",
      clientSecret: Redacted.make("secret"),
      ...options
    }).pipe(Effect.provide(http.layer), Effect.exit, Effect.fork)
    return {
      fiber,
      times,
      attempts: () => http.requests.length,
      done: Effect.map(Fiber.poll(fiber), Option.isSome)
    }
  })

const finish = (
  fiber: Fiber.RuntimeFiber<Exit.Exit<Credentials.Credentials, OAuth2Error.OAuth2Error>>,
  after: Duration.DurationInput = Duration.minutes(5)
) => Effect.zipRight(TestClock.adjust(after), Fiber.join(fiber))

const unavailable = { status: 503, text: "<h1>Service Unavailable</h1>", headers: { "content-type": "text/html" } }

const refusal = (status: number, error: string, headers: Record<string, string> = {}) => ({
  status,
  json: { error, error_description: `${error} description` },
  headers
})

describe("retry", () => {
  it.effect("503 then 200: success after 2 attempts", () =>
    Effect.gen(function*() {
      const run = yield* start((_, index) => index === 0 ? unavailable : TestHttp.token("at"))
      const credentials = success(yield* finish(run.fiber))
      strictEqual(Redacted.value(credentials.accessToken), "at")
      strictEqual(run.attempts(), 2)
    }))

  it.effect("every transient status is retried", () =>
    Effect.gen(function*() {
      for (const status of [408, 429, 500, 502, 503, 504]) {
        const run = yield* start((_, index) => index === 0 ? { status, text: "" } : TestHttp.token("at"))
        success(yield* finish(run.fiber))
        strictEqual(run.attempts(), 2, String(status))
      }
    }))

  it.effect("the delays grow exponentially from 250 ms, with jitter", () =>
    Effect.gen(function*() {
      const run = yield* start(() => unavailable)
      failureOf(yield* finish(run.fiber), "InvalidResponse")
      strictEqual(run.times.length, 4)
      const delays = run.times.slice(1).map((time, i) => time - run.times[i])
      const bounds = [[200, 300], [400, 600], [800, 1200]]
      delays.forEach((delay, i) => {
        assert.isAtLeast(delay, bounds[i][0], `delay ${i}`)
        assert.isAtMost(delay, bounds[i][1], `delay ${i}`)
      })
    }))

  it.effect("429 with Retry-After: 7 waits 7 s of TestClock time", () =>
    Effect.gen(function*() {
      const run = yield* start((_, index) =>
        index === 0 ? refusal(429, "slow_down", { "retry-after": "7" }) : TestHttp.token("at")
      )
      yield* TestClock.adjust(Duration.millis(6_999))
      strictEqual(run.attempts(), 1)
      assert.isFalse(yield* run.done)
      yield* TestClock.adjust(Duration.millis(1))
      strictEqual(run.attempts(), 2)
      success(yield* Fiber.join(run.fiber))
      strictEqual(run.times[1], 7_000)
    }))

  it.effect("Retry-After on a response that is not §5.2 is honoured too", () =>
    Effect.gen(function*() {
      const run = yield* start((_, index) =>
        index === 0
          ? { status: 503, text: "busy", headers: { "content-type": "text/plain", "retry-after": "3" } }
          : TestHttp.token("at")
      )
      success(yield* finish(run.fiber))
      strictEqual(run.times[1], 3_000)
    }))

  it.effect("Retry-After as an HTTP date", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const run = yield* start((_, index) =>
        index === 0
          ? refusal(429, "slow_down", { "retry-after": "Thu, 01 Jan 2026 00:00:12 GMT" })
          : TestHttp.token("at")
      )
      yield* TestClock.adjust(Duration.millis(11_999))
      strictEqual(run.attempts(), 1)
      yield* TestClock.adjust(Duration.millis(1))
      strictEqual(run.attempts(), 2)
      success(yield* Fiber.join(run.fiber))
    }))

  it.effect("a Retry-After date in the past falls back to the backoff", () =>
    Effect.gen(function*() {
      yield* TestClock.setTime(Date.parse("2026-01-01T00:00:00Z"))
      const run = yield* start((_, index) =>
        index === 0
          ? refusal(503, "server_error", { "retry-after": "Wed, 31 Dec 2025 23:00:00 GMT" })
          : TestHttp.token("at")
      )
      success(yield* finish(run.fiber))
      assert.isAtMost(run.times[1] - run.times[0], 300)
    }))

  it.effect("Retry-After above the cap (30 s) is capped", () =>
    Effect.gen(function*() {
      const run = yield* start((_, index) =>
        index === 0 ? refusal(429, "slow_down", { "retry-after": "3600" }) : TestHttp.token("at")
      )
      yield* TestClock.adjust(Duration.millis(29_999))
      strictEqual(run.attempts(), 1)
      yield* TestClock.adjust(Duration.millis(1))
      strictEqual(run.attempts(), 2)
      success(yield* Fiber.join(run.fiber))
    }))

  it.effect("a custom retryAfterCap", () =>
    Effect.gen(function*() {
      const run = yield* start(
        (_, index) => index === 0 ? refusal(429, "slow_down", { "retry-after": "60" }) : TestHttp.token("at"),
        { retry: { retryAfterCap: "5 seconds" } }
      )
      success(yield* finish(run.fiber))
      strictEqual(run.times[1], 5_000)
    }))

  it.effect("temporarily_unavailable is retried, whatever the status", () =>
    Effect.gen(function*() {
      const run = yield* start((_, index) =>
        index === 0 ? refusal(400, "temporarily_unavailable") : TestHttp.token("at")
      )
      success(yield* finish(run.fiber))
      strictEqual(run.attempts(), 2)
    }))

  it.effect("definite refusals are never retried", () =>
    Effect.gen(function*() {
      for (const error of ["invalid_client", "invalid_scope", "invalid_request", "unauthorized_client"]) {
        for (const status of [400, 401, 503]) {
          const run = yield* start(() => refusal(status, error))
          const failed = failureOf(yield* finish(run.fiber), "ErrorResponse")
          strictEqual(failed.error, error)
          strictEqual(run.attempts(), 1, `${error} ${status}`)
        }
      }
    }))

  it.effect("an InvalidResponse on a 200 is not retried", () =>
    Effect.gen(function*() {
      const run = yield* start(() => ({ json: { access_token: "at", token_type: "mac" } }))
      failureOf(yield* finish(run.fiber), "InvalidResponse")
      strictEqual(run.attempts(), 1)
    }))

  it.effect("a transport error is retried", () =>
    Effect.gen(function*() {
      const run = yield* start((_, index) => index < 2 ? TestHttp.transportError() : TestHttp.token("at"))
      success(yield* finish(run.fiber))
      strictEqual(run.attempts(), 3)
    }))

  it.effect("by default: 4 attempts in total, then the last error", () =>
    Effect.gen(function*() {
      const run = yield* start((_, index) => refusal(503, "server_error", { "x-attempt": String(index) }))
      const error = failureOf(yield* finish(run.fiber), "ErrorResponse")
      strictEqual(run.attempts(), 4)
      strictEqual(error.status, 503)
      strictEqual(error.error, "server_error")
      const last = yield* start((_, index) => ({
        status: 500,
        json: { error: "server_error", error_description: `#${index}` }
      }))
      strictEqual(failureOf(yield* finish(last.fiber), "ErrorResponse").errorDescription, "#3")
    }))

  it.effect("retry: false gives one attempt", () =>
    Effect.gen(function*() {
      const run = yield* start(() => unavailable, { retry: false })
      strictEqual(failureOf(yield* finish(run.fiber), "InvalidResponse").status, 503)
      strictEqual(run.attempts(), 1)
    }))

  it.effect("a custom schedule: Schedule.recurs(1) gives 2 attempts", () =>
    Effect.gen(function*() {
      const run = yield* start(() => unavailable, { retry: { schedule: Schedule.recurs(1) } })
      failureOf(yield* finish(run.fiber), "InvalidResponse")
      strictEqual(run.attempts(), 2)
    }))

  it.effect("a custom while predicate", () =>
    Effect.gen(function*() {
      const run = yield* start(
        (_, index) => index === 0 ? refusal(400, "invalid_client") : TestHttp.token("at"),
        { retry: { while: (error) => error._tag === "ErrorResponse" } }
      )
      success(yield* finish(run.fiber))
      strictEqual(run.attempts(), 2)
    }))

  it.effect("a configuration error found by the auth method is not retried", () =>
    Effect.gen(function*() {
      let calls = 0
      const auth = ClientAuth.make("custom", (request) =>
        Effect.suspend(() => {
          calls++
          return ClientAuth.clientSecretPost.authenticate({ ...request, clientSecret: undefined })
        }))
      const run = yield* start(() => TestHttp.token("at"), { auth })
      failureOf(yield* finish(run.fiber), "ConfigurationError")
      strictEqual(calls, 1)
      strictEqual(run.attempts(), 0)
    }))

  it.effect("Retry-After: delay-seconds (spaces around allowed) or an HTTP-date; anything else is ignored", () =>
    Effect.gen(function*() {
      const retryAfterOf = (value: string) =>
        Effect.gen(function*() {
          const http = TestHttp.make(() => ({
            status: 429,
            json: { error: "slow_down" },
            headers: { "retry-after": value }
          }))
          const error = yield* Effect.flip(
            ClientCredentials.grant({ tokenUrl, clientId: "client", retry: false }).pipe(Effect.provide(http.layer))
          )
          return error._tag === "ErrorResponse" ? error.retryAfter : error._tag
        })
      // the TestClock starts at 0: the epoch
      const cases: ReadonlyArray<readonly [string, number | undefined]> = [
        ["7", 7_000],
        [" 7 ", 7_000],
        ["7x", undefined],
        ["x7", undefined],
        ["1.5", undefined],
        ["-1", undefined],
        ["Thu, 01 Jan 1970 00:00:10 GMT", 10_000],
        ["later", undefined]
      ]
      for (const [value, expected] of cases) {
        assert.strictEqual(yield* retryAfterOf(value), expected, JSON.stringify(value))
      }
    }))

  describe("timeouts", () => {
    const slow = () => Effect.as(Effect.sleep(Duration.seconds(60)), TestHttp.token("at"))

    it.effect("an attempt times out after 30 s: TimeoutError stage attempt", () =>
      Effect.gen(function*() {
        const run = yield* start(slow, { retry: false })
        yield* TestClock.adjust(Duration.millis(29_999))
        assert.isFalse(yield* run.done)
        yield* TestClock.adjust(Duration.millis(1))
        const error = failureOf(yield* Fiber.join(run.fiber), "TimeoutError")
        strictEqual(error.stage, "attempt")
        strictEqual(error.timeoutMillis, 30_000)
        strictEqual(error.tokenEndpoint, tokenUrl)
      }))

    it.effect("timed-out attempts are retried, then the last TimeoutError", () =>
      Effect.gen(function*() {
        const run = yield* start(slow, { retry: { budget: "10 minutes" } })
        const error = failureOf(yield* finish(run.fiber, Duration.minutes(10)), "TimeoutError")
        strictEqual(error.stage, "attempt")
        strictEqual(run.attempts(), 4)
      }))

    it.effect("a timed-out attempt followed by a quick one succeeds", () =>
      Effect.gen(function*() {
        const run = yield* start((_, index) => index === 0 ? slow() : TestHttp.token("at"))
        success(yield* finish(run.fiber))
        strictEqual(run.attempts(), 2)
        assert.isAtLeast(run.times[1], 30_000)
      }))

    it.effect("a custom timeout", () =>
      Effect.gen(function*() {
        const run = yield* start(slow, { retry: false, timeout: "1 second" })
        yield* TestClock.adjust(Duration.seconds(1))
        const error = failureOf(yield* Fiber.join(run.fiber), "TimeoutError")
        strictEqual(error.timeoutMillis, 1_000)
      }))

    it.effect("all attempts together are bounded by the budget (60 s): TimeoutError stage budget", () =>
      Effect.gen(function*() {
        const run = yield* start(slow)
        yield* TestClock.adjust(Duration.millis(59_999))
        assert.isFalse(yield* run.done)
        yield* TestClock.adjust(Duration.millis(1))
        const error = failureOf(yield* Fiber.join(run.fiber), "TimeoutError")
        strictEqual(error.stage, "budget")
        strictEqual(error.timeoutMillis, 60_000)
        strictEqual(run.attempts(), 2)
      }))

    it.effect("a Retry-After longer than what is left of a custom budget ends with the server's answer at once", () =>
      Effect.gen(function*() {
        const run = yield* start(() => refusal(429, "slow_down", { "retry-after": "20" }), {
          retry: { budget: "45 seconds" }
        })
        // attempts at 0 s and 20 s and 40 s; a fourth would start at 60 s, past the 45 s budget
        const error = failureOf(yield* finish(run.fiber), "ErrorResponse")
        strictEqual(error.error, "slow_down")
        strictEqual(error.status, 429)
        strictEqual(run.attempts(), 3)
      }))
  })
})
