/**
 * The retried token request (internal/grant.ts `request`): the attempts and time an error reports, which errors end
 * the retries, the log line of a retry, and the outcome on the `OAuth2.tokenRequest` span. TestClock only.
 */
import { ClientAuth, ClientCredentials, type Credentials, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { deepStrictEqual, strictEqual } from "@effect/vitest/utils"
import * as Effect from "effect/Effect"
import type * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Redacted from "effect/Redacted"
import * as Schedule from "effect/Schedule"
import * as TestClock from "effect/TestClock"
import { failureOf, run, success, tokenUrl } from "../utils/Grant.js"
import * as RecordingTracer from "../utils/RecordingTracer.js"
import * as TestHttp from "../utils/TestHttp.js"

const unavailable = { status: 503, text: "<h1>Service Unavailable</h1>", headers: { "content-type": "text/html" } }

/** Runs the grant in a fiber, then moves the TestClock by `advance` ms and joins it. */
const runFor = (handler: TestHttp.Handler, options: Partial<ClientCredentials.Options>, advance: number) =>
  Effect.gen(function*() {
    const http = TestHttp.make(handler)
    const fiber = yield* ClientCredentials.grant({
      tokenUrl,
      clientId: "client",
      clientSecret: Redacted.make("secret"),
      ...options
    }).pipe(Effect.provide(http.layer), Effect.exit, Effect.fork)
    yield* TestClock.adjust(advance)
    const exit: Exit.Exit<Credentials.Credentials, OAuth2Error.OAuth2Error> = yield* Fiber.join(fiber)
    return { exit, requests: http.requests }
  })

const oneSecondApart = Schedule.spaced("1 second").pipe(Schedule.intersect(Schedule.recurs(2)))

describe("grant retries (mutation)", () => {
  it.effect("an InvalidResponse after retries tells its attempts and the time since the first, on any clock", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust(5_000) // the clock does not start at 0
      const { exit, requests } = yield* runFor(() => unavailable, { retry: { schedule: oneSecondApart } }, 10_000)
      const error = failureOf(exit, "InvalidResponse")
      strictEqual(error.status, 503)
      deepStrictEqual(error.retries, { attempts: 3, elapsedMillis: 2_000 })
      strictEqual(requests.length, 3)
    }))

  it.effect("an error given up on before a second attempt carries no retries", () =>
    Effect.gen(function*() {
      // the server's Retry-After (120 s) is past the budget (60 s): its answer is the result at once
      const { exit, requests } = yield* runFor(
        () => ({ ...unavailable, headers: { ...unavailable.headers, "retry-after": "120" } }),
        { retry: { retryAfterCap: "120 seconds", budget: "60 seconds" } },
        0
      )
      const error = failureOf(exit, "InvalidResponse")
      strictEqual(error.retryAfter, 120_000)
      assert.isFalse("retries" in error)
      strictEqual(requests.length, 1)
    }))

  it.effect("a retried error that is not a response, transport or timeout error is returned as it is", () =>
    Effect.gen(function*() {
      const refused = new OAuth2Error.ConfigurationError({ reason: "the key cannot sign" })
      let calls = 0
      const failing = ClientAuth.make("custom", () => Effect.suspend(() => (calls++, Effect.fail(refused))))
      const { exit, requests } = yield* run(() => TestHttp.token("at"), {
        auth: failing,
        retry: { while: () => true, schedule: Schedule.recurs(2) }
      })
      strictEqual(failureOf(exit, "ConfigurationError").reason, "the key cannot sign")
      strictEqual(calls, 3)
      strictEqual(requests.length, 0)
    }))

  it.effect("a first attempt cut off by a budget shorter than the timeout is not retried, even by a retry-all policy", () =>
    Effect.gen(function*() {
      const { exit, requests } = yield* runFor(() => Effect.never, {
        timeout: "5 seconds",
        retry: { budget: "1 second", while: () => true, schedule: Schedule.recurs(3) }
      }, 10_000)
      const error = failureOf(exit, "TimeoutError")
      strictEqual(error.stage, "budget")
      strictEqual(error.timeoutMillis, 1_000)
      strictEqual(requests.length, 1)
    }))

  it.effect("each retry logs \"OAuth2 token request failed, retrying: \" and the error's message", () =>
    Effect.gen(function*() {
      const lines: Array<string> = []
      const logger = Logger.make(({ message }) => {
        lines.push((Array.isArray(message) ? message : [message]).map(String).join(" "))
      })
      const { exit } = yield* runFor(
        (_, index) => index === 0 ? TestHttp.transportError("connection refused") : TestHttp.token("at"),
        { retry: { schedule: oneSecondApart } },
        1_000
      ).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      success(exit)
      const first = new OAuth2Error.TransportError({ tokenEndpoint: tokenUrl, description: "connection refused" })
      deepStrictEqual(lines, [`OAuth2 token request failed, retrying: ${first.message}`])
    }))

  describe("the OAuth2.tokenRequest span", () => {
    const traced = (handler: TestHttp.Handler) =>
      Effect.gen(function*() {
        const recording = RecordingTracer.make()
        const { exit } = yield* run(handler, { scopes: ["a"] }).pipe(Effect.withTracer(recording.tracer))
        const spans = recording.spans.filter((span) => span.name === "OAuth2.tokenRequest")
        strictEqual(spans.length, 1)
        return { exit, attributes: spans[0].attributes }
      })

    it.effect("a success records the outcome, the granted scopes joined by a space and expires_in", () =>
      Effect.gen(function*() {
        const { attributes, exit } = yield* traced(() => TestHttp.token("at", 3600, { scope: "a b" }))
        success(exit)
        strictEqual(attributes.get("oauth2.outcome"), "success")
        strictEqual(attributes.get("oauth2.granted_scopes"), "a b")
        strictEqual(attributes.get("oauth2.expires_in"), 3600)
      }))

    it.effect("a success without expires_in records no oauth2.expires_in", () =>
      Effect.gen(function*() {
        const { attributes, exit } = yield* traced(() => TestHttp.token("at", null))
        success(exit)
        strictEqual(attributes.get("oauth2.outcome"), "success")
        strictEqual(attributes.get("oauth2.granted_scopes"), "a")
        assert.isFalse(attributes.has("oauth2.expires_in"))
      }))

    it.effect("a failure records the error's tag as the outcome", () =>
      Effect.gen(function*() {
        const { attributes, exit } = yield* traced(() => ({ status: 400, json: { error: "invalid_client" } }))
        failureOf(exit, "ErrorResponse")
        strictEqual(attributes.get("oauth2.outcome"), "ErrorResponse")
        assert.isFalse(attributes.has("oauth2.granted_scopes"))
      }))
  })
})
