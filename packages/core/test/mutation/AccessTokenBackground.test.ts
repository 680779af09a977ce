/**
 * The background (refresh-ahead) fetch of the token lifecycle, rule by rule: its backoff after failures, the
 * warning and the metric of a failed background fetch (and their absence for a foreground failure or an
 * interrupted fetch), and single-flight while a background fetch is in flight.
 *
 * The fetch is a plain effect on the TestClock, so forked fibers only need the scheduler (`settle`), not real time.
 */
import { AccessToken, Credentials, OAuth2Error } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { Cause, Clock, Effect, Exit, Logger, Metric, Redacted, Scope, TestClock } from "effect"
import * as metrics from "../../src/internal/metrics.js"

const tokenUrl = "https://as.example/token"

/** A token as the grant builds it: issued at `issuedAt`, `expiresIn` seconds, a 10 s grace before the server's expiry. */
const issue = (name: string, issuedAt: number, expiresIn = 3600) =>
  new Credentials.Credentials({
    accessToken: Redacted.make(name),
    tokenType: "Bearer",
    scopes: [],
    tokenEndpoint: tokenUrl,
    extra: {},
    issuedAt,
    expiresIn,
    expiresAt: issuedAt + expiresIn * 1000 - 10_000
  })

const refused = new OAuth2Error.ErrorResponse({
  tokenEndpoint: tokenUrl,
  status: 503,
  error: "temporarily_unavailable"
})

/** A fetch that records the Clock time of each call and issues tok-1, tok-2, ... (3600 s), or fails, or stalls. */
const scripted = () => {
  const calls: Array<number> = []
  let mode: "ok" | "fail" | "stall" = "ok"
  const fetch = Effect.gen(function*() {
    const t = yield* Clock.currentTimeMillis
    calls.push(t)
    if (mode === "fail") return yield* Effect.fail(refused)
    if (mode === "stall") return yield* Effect.never
    return issue(`tok-${calls.length}`, t)
  })
  return {
    fetch,
    calls,
    setMode: (m: typeof mode) => {
      mode = m
    }
  }
}

const value = (c: Credentials.Credentials) => Redacted.value(c.accessToken)

/** Lets forked fibers run: they only wait for the scheduler (the fetch is a plain effect on the TestClock). */
const settle = Effect.repeatN(Effect.yieldNow(), 50)

/** Every log line (level and message) of `effect`, forked fibers included. */
const withLogs = <A, E, R>(effect: (logs: Array<string>) => Effect.Effect<A, E, R>) => {
  const logs: Array<string> = []
  const logger = Logger.make(({ logLevel, message }) => {
    logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
  })
  return Effect.provide(effect(logs), Logger.replace(Logger.defaultLogger, logger))
}

/** The oauth2_background_refresh_failures counter (process-wide: the tests compare before and after). */
const backgroundFailures = Effect.map(Metric.value(metrics.backgroundRefreshFailures), (state) => state.count)

const warning = (failures: number) =>
  `WARN OAuth2 background token refresh failed (${failures} in a row); the current token keeps serving: ` +
  Cause.pretty(Cause.fail(refused))

describe("AccessToken background refresh (mutation)", () => {
  it.scoped(
    "failed background fetches back off 1 s, 2 s, 4 s … doubling up to 1 min, each logged with its count and counted",
    () =>
      withLogs((logs) =>
        Effect.gen(function*() {
          const f = scripted()
          const token = yield* AccessToken.make(f.fetch) // default backoff 1 s, cap 1 min
          assert.strictEqual(value(yield* token.get), "tok-1") // 3600 s: refreshAfter 3270 s, usableUntil 3570 s
          const before = yield* backgroundFailures
          f.setMode("fail")
          yield* TestClock.setTime(3_270_000)
          for (let second = 3270; second <= 3460; second++) {
            assert.strictEqual(value(yield* token.get), "tok-1") // every use is served at once
            yield* settle
            yield* TestClock.adjust("1 second")
          }
          // a use at or after the next attempt time starts the attempt: 1, 2, 4, 8, 16, 32 s, then the 1 min cap
          assert.deepStrictEqual(
            f.calls.slice(1).map((t) => t / 1000),
            [3270, 3271, 3273, 3277, 3285, 3301, 3333, 3393, 3453]
          )
          assert.deepStrictEqual(logs, [1, 2, 3, 4, 5, 6, 7, 8, 9].map(warning))
          assert.strictEqual((yield* backgroundFailures) - before, 9)
        })
      )
  )

  it.scoped("a failed foreground fetch (cold cache) logs no background warning and is not counted as one", () =>
    withLogs((logs) =>
      Effect.gen(function*() {
        const f = scripted()
        f.setMode("fail")
        const token = yield* AccessToken.make(f.fetch)
        const before = yield* backgroundFailures
        const error = yield* Effect.flip(token.get)
        assert.strictEqual(error, refused)
        yield* settle
        assert.deepStrictEqual(logs, [])
        assert.strictEqual((yield* backgroundFailures) - before, 0)
        // nor does it delay a later background refresh: the first one starts at refreshAfter
        f.setMode("ok")
        assert.strictEqual(value(yield* token.get), "tok-2")
        yield* TestClock.setTime(3_270_000)
        assert.strictEqual(value(yield* token.get), "tok-2")
        yield* settle
        assert.deepStrictEqual(f.calls, [0, 0, 3_270_000])
      })
    ))

  it.effect("a background fetch interrupted by closing the scope logs no warning and is not counted as a failure", () =>
    withLogs((logs) =>
      Effect.gen(function*() {
        const f = scripted()
        const scope = yield* Scope.make()
        const token = yield* AccessToken.make(f.fetch).pipe(Scope.extend(scope))
        yield* token.get
        const before = yield* backgroundFailures
        f.setMode("stall")
        yield* TestClock.setTime(3_270_000)
        assert.strictEqual(value(yield* token.get), "tok-1")
        yield* settle
        assert.strictEqual(f.calls.length, 2) // the background fetch is in flight
        yield* Scope.close(scope, Exit.void)
        yield* settle
        assert.deepStrictEqual(logs, [])
        assert.strictEqual((yield* backgroundFailures) - before, 0)
      })
    ))

  it.scoped("while a background fetch is in flight, later uses in the refresh window start no second one", () =>
    Effect.gen(function*() {
      const f = scripted()
      const token = yield* AccessToken.make(f.fetch)
      yield* token.get
      f.setMode("stall")
      yield* TestClock.setTime(3_270_000)
      for (let i = 0; i < 5; i++) {
        assert.strictEqual(value(yield* token.get), "tok-1")
        yield* settle
        yield* TestClock.adjust("10 seconds")
      }
      assert.deepStrictEqual(f.calls, [0, 3_270_000])
    }))
})
