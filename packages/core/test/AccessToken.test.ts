import { AccessToken, ClientCredentials, Credentials, OAuth2Error, TokenStore } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Exit, Fiber, Logger, Option, Redacted, Ref, Scope, TestClock } from "effect"
import * as TestHttp from "./utils/TestHttp.js"

const tokenUrl = "https://as.example/token"

/** A token endpoint that issues tok-1, tok-2, ... with the given lifetime, and can be made to fail or stall. */
const endpoint = (expiresIn: number | null = 3600) => {
  let issued = 0
  let mode: "ok" | "fail" | "stall" = "ok"
  const http = TestHttp.make(() => {
    if (mode === "fail") return { status: 503, json: { error: "temporarily_unavailable" } }
    if (mode === "stall") return Effect.as(Effect.never, TestHttp.token("never"))
    issued++
    return TestHttp.token(`tok-${issued}`, expiresIn)
  })
  return {
    http,
    issued: () => issued,
    setMode: (m: typeof mode) => {
      mode = m
    }
  }
}

const makeToken = (
  e: ReturnType<typeof endpoint>,
  options: AccessToken.Options & { readonly retry?: false } = {}
) =>
  Effect.gen(function*() {
    const fetch = yield* ClientCredentials.make({
      tokenUrl,
      clientId: "svc",
      clientSecret: Redacted.make("secret"),
      retry: options.retry ?? false
    }).pipe(Effect.provide(e.http.layer))
    return yield* AccessToken.make(fetch, options)
  })

const value = (c: Credentials.Credentials) => Redacted.value(c.accessToken)

/** Lets forked fibers (a background fetch reading its response body) run, in real time. */
const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))

/** A lifecycle whose first token (tok-1, 1 h) comes at once and every later fetch after `delay` of Clock time. */
const slowRefresh = (delay: Duration.DurationInput, timeout: Duration.DurationInput) =>
  Effect.gen(function*() {
    let n = 0
    const http = TestHttp.make(() => {
      n++
      return n === 1
        ? TestHttp.token("tok-1", 3600)
        : Effect.as(Effect.sleep(delay), TestHttp.token(`tok-${n}`, 3600))
    })
    const fetch = yield* ClientCredentials.make({ tokenUrl, clientId: "svc", retry: false, timeout }).pipe(
      Effect.provide(http.layer)
    )
    return { calls: () => n, token: yield* AccessToken.make(fetch) }
  })

describe("AccessToken", () => {
  it.scoped("1,000 concurrent callers on a cold cache cause one token request", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const token = yield* makeToken(e)
      const results = yield* Effect.all(Array.from({ length: 1000 }, () => token.get), { concurrency: "unbounded" })
      assert.strictEqual(e.http.requests.length, 1)
      assert.isTrue(results.every((c) => value(c) === "tok-1"))
    }))

  it.scoped("1,000 concurrent callers after expiry cause one token request", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const token = yield* makeToken(e)
      yield* token.get
      // 3600 s: expiresAt = 3590 s (10 s grace), usableUntil = 3570 s (30 s margin from the server's expiry)
      yield* TestClock.adjust("3571 seconds")
      const results = yield* Effect.all(Array.from({ length: 1000 }, () => token.get), { concurrency: "unbounded" })
      assert.strictEqual(e.http.requests.length, 2)
      assert.isTrue(results.every((c) => value(c) === "tok-2"))
    }))

  it.scoped("concurrent callers all receive the error of a failed fetch, and the failure is not cached", () =>
    Effect.gen(function*() {
      const e = endpoint()
      e.setMode("fail")
      const token = yield* makeToken(e)
      const exits = yield* Effect.all(Array.from({ length: 50 }, () => Effect.exit(token.get)), {
        concurrency: "unbounded"
      })
      assert.strictEqual(e.http.requests.length, 1)
      for (const exit of exits) {
        assert.isTrue(Exit.isFailure(exit))
        if (Exit.isFailure(exit)) {
          assert.isTrue(
            OAuth2Error.isOAuth2Error(Option.getOrThrow(
              Exit.causeOption(exit).pipe(
                Option.flatMap((c) => Option.fromNullable(c._tag === "Fail" ? c.error : undefined))
              )
            ))
          )
        }
      }
      e.setMode("ok")
      const credentials = yield* token.get
      assert.strictEqual(value(credentials), "tok-1")
      assert.strictEqual(e.http.requests.length, 2)
    }))

  it.scoped("a 3600 s token: same token up to expiry − margin − 1 s, background fetch before the margin, no wait", () =>
    Effect.gen(function*() {
      let calls = 0
      const http = TestHttp.make(() => {
        calls++
        // every fetch after the first takes 2 s of (test) time: a caller that waited for it would hang here
        return calls === 1
          ? TestHttp.token("tok-1", 3600)
          : Effect.as(Effect.sleep("2 seconds"), TestHttp.token(`tok-${calls}`, 3600))
      })
      const fetch = yield* ClientCredentials.make({ tokenUrl, clientId: "svc", retry: false }).pipe(
        Effect.provide(http.layer)
      )
      const token = yield* AccessToken.make(fetch)
      assert.strictEqual(value(yield* token.get), "tok-1")
      const timeline = AccessToken.timeline((yield* token.current).pipe(Option.getOrThrow), 0)
      assert.deepStrictEqual(timeline, { refreshAfter: 3_270_000, usableUntil: 3_570_000, expiresAt: 3_590_000 })

      yield* TestClock.adjust("3269 seconds")
      assert.strictEqual(value(yield* token.get), "tok-1")
      assert.strictEqual(calls, 1) // not yet in the refresh window

      yield* TestClock.adjust("1 second") // 3270 s: refresh window
      const served = yield* Effect.fork(token.get)
      assert.strictEqual(value(yield* Fiber.join(served)), "tok-1") // answered at once, no wait
      yield* settle
      assert.strictEqual(calls, 2) // the background fetch started

      yield* TestClock.adjust("298 seconds") // 3568 s = expiry − margin − 2 s; the fetch completed long ago
      assert.strictEqual(value(yield* token.get), "tok-2")
      assert.strictEqual(calls, 2)
    }))

  it.scoped("the token in use at expiry − margin − 1 s is still the first one when refresh-ahead is slow", () =>
    Effect.gen(function*() {
      const { calls, token } = yield* slowRefresh("1 hour", "2 hours")
      yield* token.get
      yield* TestClock.adjust("3300 seconds")
      yield* token.get // starts the background fetch, which stalls
      yield* TestClock.adjust("269 seconds") // 3569 s = 3600 − 30 − 1
      assert.strictEqual(value(yield* token.get), "tok-1")
      assert.strictEqual(calls(), 2) // single-flight: no second background fetch
    }))

  it.scoped("a caller past the margin while a background refresh is in flight joins that fetch", () =>
    Effect.gen(function*() {
      // the background fetch takes 400 s of (test) time: from 3270 s to 3670 s, past usableUntil (3570 s)
      const { calls, token } = yield* slowRefresh("400 seconds", "1 hour")
      assert.strictEqual(value(yield* token.get), "tok-1")
      yield* TestClock.adjust("3270 seconds") // refreshAfter: served tok-1, the background fetch starts
      assert.strictEqual(value(yield* token.get), "tok-1")
      yield* settle
      assert.strictEqual(calls(), 2)

      yield* TestClock.adjust("301 seconds") // 3571 s: past usableUntil, the fetch still in flight
      const waiting = yield* Effect.fork(token.get)
      yield* settle
      assert.isTrue(Option.isNone(yield* Fiber.poll(waiting)), "the caller waits for the fetch in flight")
      assert.strictEqual(calls(), 2, "no second fetch")

      yield* TestClock.adjust("99 seconds") // 3670 s: the background fetch answers
      assert.strictEqual(value(yield* Fiber.join(waiting)), "tok-2")
      assert.strictEqual(calls(), 2)
      assert.strictEqual(value(yield* token.get), "tok-2")
    }))

  it.scoped("a 30 s token is reused, not fetched per request", () =>
    Effect.gen(function*() {
      const e = endpoint(30)
      const token = yield* makeToken(e)
      // 30 s: grace 10 s → expiresAt 20 s; margin min(30, 15) from 30 s → usableUntil 15 s; refreshAfter 7.5 s
      for (let i = 0; i < 8; i++) {
        assert.strictEqual(value(yield* token.get), "tok-1")
        yield* TestClock.adjust("1 second")
      }
      assert.strictEqual(e.issued(), 1)
      // from 7.5 s a use refreshes ahead; the old token serves meanwhile
      assert.strictEqual(value(yield* token.get), "tok-1")
      yield* settle
      assert.strictEqual(value(yield* token.get), "tok-2")
      assert.strictEqual(e.issued(), 2)
    }))

  it.scoped("a 5 s token is reused, not fetched per request", () =>
    Effect.gen(function*() {
      const e = endpoint(5)
      const token = yield* makeToken(e)
      // 5 s: grace 2.5 s → expiresAt 2.5 s; margin 2.5 s from 5 s → usableUntil 2.5 s; refreshAfter 1.25 s
      for (let i = 0; i < 12; i++) {
        assert.strictEqual(value(yield* token.get), "tok-1")
        yield* TestClock.adjust("100 millis")
      }
      assert.strictEqual(e.issued(), 1)
    }))

  it.scoped("a failing endpoint costs nothing while the token is valid; after expiry a typed error; then recovery", () =>
    Effect.gen(function*() {
      const e = endpoint(3600)
      const token = yield* makeToken(e, { backgroundBackoff: "1 second" })
      yield* token.get
      e.setMode("fail")
      yield* TestClock.adjust("3300 seconds") // refresh window
      for (let i = 0; i < 10; i++) {
        assert.strictEqual(value(yield* token.get), "tok-1")
        yield* settle
        yield* TestClock.adjust("5 seconds")
      }
      // background attempts are spaced by the backoff, not made on every use
      const attempts = e.http.requests.length - 1
      assert.isTrue(attempts >= 1 && attempts <= 6, `attempts: ${attempts}`)

      // inside the margin (3570..3590 s): a failed fetch falls back to the unexpired token
      yield* TestClock.setTime(3580_000)
      assert.strictEqual(value(yield* token.get), "tok-1")

      // past expiresAt: the caller sees the typed error
      yield* TestClock.setTime(3591_000)
      const error = yield* Effect.flip(token.get)
      assert.isTrue(OAuth2Error.isErrorResponse(error))
      assert.strictEqual((error as OAuth2Error.ErrorResponse).error, "temporarily_unavailable")

      // the endpoint recovers: the very next caller succeeds (no cached failure)
      e.setMode("ok")
      assert.strictEqual(value(yield* token.get), "tok-2")
    }))

  it.scoped("invalidate is compare-and-swap: a stale token cannot drop a newer one", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const token = yield* makeToken(e)
      const first = yield* token.get
      assert.isTrue(yield* token.invalidate(first))
      const second = yield* token.get
      assert.strictEqual(value(second), "tok-2")
      assert.isFalse(yield* token.invalidate(first)) // late 401 for tok-1
      assert.isFalse(yield* token.invalidate("tok-1"))
      assert.strictEqual(value(yield* token.get), "tok-2")
      assert.strictEqual(e.issued(), 2)
      assert.isTrue(yield* token.invalidate(Redacted.make("tok-2")))
      assert.isTrue(Option.isNone(yield* token.current))
    }))

  it.scoped("refresh replaces the cached token", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const token = yield* makeToken(e)
      yield* token.get
      assert.strictEqual(value(yield* token.refresh), "tok-2")
      assert.strictEqual(value(yield* token.get), "tok-2")
    }))

  it.scoped("missing expires_in: the default lifetime (5 min) applies", () =>
    Effect.gen(function*() {
      const e = endpoint(null)
      const token = yield* makeToken(e)
      const credentials = yield* token.get
      assert.isUndefined(credentials.expiresAt)
      // 300 s assumed: usableUntil 270 s, refreshAfter 135 s
      yield* TestClock.adjust("134 seconds")
      yield* token.get
      assert.strictEqual(e.issued(), 1)
      yield* TestClock.adjust("137 seconds") // 271 s: past usableUntil
      assert.strictEqual(value(yield* token.get), "tok-2")
    }))

  it.scoped("a custom default lifetime, margin and refresh-ahead are honoured", () =>
    Effect.gen(function*() {
      const e = endpoint(null)
      const token = yield* makeToken(e, {
        defaultLifetime: "1 hour",
        refreshMargin: "1 minute",
        refreshAhead: "0 seconds"
      })
      yield* token.get
      yield* TestClock.adjust("3539 seconds")
      yield* token.get
      assert.strictEqual(e.issued(), 1)
      yield* TestClock.adjust("2 seconds")
      assert.strictEqual(value(yield* token.get), "tok-2")
    }))

  it.effect("closing the scope stops a background fetch in flight", () =>
    Effect.gen(function*() {
      const interrupted = yield* Ref.make(false)
      let calls = 0
      const http = TestHttp.make(() => {
        calls++
        return calls === 1
          ? TestHttp.token("tok-1", 60)
          : Effect.as(Effect.onInterrupt(Effect.never, () => Ref.set(interrupted, true)), TestHttp.token("x"))
      })
      const scope = yield* Scope.make()
      const fetch = yield* ClientCredentials.make({ tokenUrl, clientId: "svc", retry: false }).pipe(
        Effect.provide(http.layer)
      )
      const token = yield* AccessToken.make(fetch).pipe(Scope.extend(scope))
      yield* token.get
      // 60 s: expiresAt 50 s, usableUntil 25 s, refreshAfter 12.5 s
      yield* TestClock.adjust("15 seconds")
      yield* token.get
      yield* settle
      assert.strictEqual(calls, 2)
      yield* Scope.close(scope, Exit.void)
      assert.isTrue(yield* Ref.get(interrupted))
    }))

  it.scoped("a store is read on a cold start and written on every new token", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory()
      const e = endpoint()
      const first = yield* makeToken(e, { store, storeKey: "k" })
      yield* first.get
      const second = yield* makeToken(e, { store, storeKey: "k" })
      assert.strictEqual(value(yield* second.get), "tok-1")
      assert.strictEqual(e.issued(), 1)
      // an invalidated token is removed from the store and never taken back from it
      yield* second.invalidate("tok-1")
      assert.isTrue(Option.isNone(yield* store.get("k")))
      assert.strictEqual(value(yield* second.get), "tok-2")
      assert.strictEqual(value(Option.getOrThrow(yield* store.get("k"))), "tok-2")
    }))

  it.scoped("a failing store is logged and ignored", () =>
    Effect.gen(function*() {
      const failing: TokenStore.TokenStore = {
        get: () => Effect.fail(new TokenStore.TokenStoreError({ operation: "get", description: "disk on fire" })),
        set: () => Effect.fail(new TokenStore.TokenStoreError({ operation: "set", description: "disk on fire" })),
        remove: () => Effect.fail(new TokenStore.TokenStoreError({ operation: "remove", description: "disk on fire" }))
      }
      const e = endpoint()
      const logs: Array<string> = []
      const logger = Logger.make(({ logLevel, message }) => {
        logs.push(`${logLevel.label} ${Array.isArray(message) ? message.join(" ") : String(message)}`)
      })
      yield* Effect.gen(function*() {
        const token = yield* makeToken(e, { store: failing })
        assert.strictEqual(value(yield* token.get), "tok-1")
        yield* settle // the store write after the fetch
        assert.isTrue(yield* token.invalidate("tok-1"))
        assert.strictEqual(value(yield* token.get), "tok-2")
        yield* settle
      }).pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      assert.strictEqual(e.issued(), 2)
      // every store operation failed, and each failure was logged as a warning naming it: the read on the cold
      // start, the write of tok-1, the read of invalidate's compare-and-delete, the read before the next fetch and
      // the write of tok-2
      const line = (operation: string) =>
        `WARN OAuth2 token store: Token store ${operation} failed: disk on fire; carrying on without it`
      assert.deepStrictEqual(logs, ["get", "set", "get", "get", "set"].map(line))
    }))

  it.scoped("an expired stored token is not used", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory()
      yield* store.set(
        "k",
        new Credentials.Credentials({
          accessToken: Redacted.make("old"),
          tokenType: "Bearer",
          scopes: [],
          tokenEndpoint: tokenUrl,
          extra: {},
          issuedAt: -7_200_000,
          expiresAt: -3_600_000
        })
      )
      const e = endpoint()
      const token = yield* makeToken(e, { store, storeKey: "k" })
      assert.strictEqual(value(yield* token.get), "tok-1")
    }))
})
