/**
 * The token timeline and its edges, rule by rule: the margin cap of a short token issued later than 0, credentials
 * without issuedAt, a token already past its margin on arrival, the exact millisecond of usableUntil and expiresAt,
 * and what a lifecycle takes from its store (the default key, a token it dropped, a stored token at its margin).
 */
import { AccessToken, Credentials, OAuth2Error, TokenStore } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { Clock, Effect, Option, Redacted, TestClock } from "effect"

const tokenUrl = "https://as.example/token"

const credentials = (
  name: string,
  times: { readonly issuedAt?: number; readonly expiresIn?: number; readonly expiresAt?: number }
) =>
  new Credentials.Credentials({
    accessToken: Redacted.make(name),
    tokenType: "Bearer",
    scopes: [],
    tokenEndpoint: tokenUrl,
    extra: {},
    ...times
  })

/** A token as the grant builds it: issued at `issuedAt`, `expiresIn` seconds, a 10 s grace before the server's expiry. */
const issue = (name: string, issuedAt: number, expiresIn = 3600) =>
  credentials(name, { issuedAt, expiresIn, expiresAt: issuedAt + expiresIn * 1000 - 10_000 })

const refused = new OAuth2Error.ErrorResponse({
  tokenEndpoint: tokenUrl,
  status: 503,
  error: "temporarily_unavailable"
})

/** A fetch that issues tok-1, tok-2, ... (3600 s) at the Clock time of the call, or fails. */
const scripted = () => {
  let calls = 0
  let failing = false
  const fetch = Effect.gen(function*() {
    const t = yield* Clock.currentTimeMillis
    calls++
    if (failing) return yield* Effect.fail(refused)
    return issue(`tok-${calls}`, t)
  })
  return {
    fetch,
    calls: () => calls,
    fail: () => {
      failing = true
    }
  }
}

const value = (c: Credentials.Credentials) => Redacted.value(c.accessToken)

/** Lets forked fibers run (the store write after a fetch): they only wait for the scheduler. */
const settle = Effect.repeatN(Effect.yieldNow(), 50)

describe("AccessToken timeline (mutation)", () => {
  it("a 40 s token issued at 100 s: the margin is capped at half its own lifetime (20 s), not at the clock time", () => {
    // serverExpiry 140 s, lifetime 40 s, margin min(30, 20) = 20 s → usableUntil min(130, 120) = 120 s;
    // usable 20 s → refreshAfter 120 − min(300, 10) = 110 s
    assert.deepStrictEqual(
      AccessToken.timeline(issue("t", 100_000, 40), 100_000),
      { refreshAfter: 110_000, usableUntil: 120_000, expiresAt: 130_000 }
    )
  })

  it("credentials with no times at all: issued now, with the default lifetime (5 min)", () => {
    // issuedAt 1 s (now), expiresAt 301 s, margin 30 s → usableUntil 271 s, refreshAfter 271 − 135 = 136 s
    assert.deepStrictEqual(
      AccessToken.timeline(credentials("t", {}), 1_000),
      { refreshAfter: 136_000, usableUntil: 271_000, expiresAt: 301_000 }
    )
  })

  it("credentials with expiresIn but no issuedAt: the margin counts from expiresAt", () => {
    // no issuedAt: expiresIn cannot be placed on the clock, so the server's expiry is expiresAt (3590 s)
    assert.deepStrictEqual(
      AccessToken.timeline(credentials("t", { expiresIn: 3600, expiresAt: 3_590_000 }), 0),
      { refreshAfter: 3_260_000, usableUntil: 3_560_000, expiresAt: 3_590_000 }
    )
  })

  it.scoped("a token that arrives past its margin is handed to its caller but not cached: the next caller fetches", () =>
    Effect.gen(function*() {
      let calls = 0
      // the request takes 20 s; a 30 s token issued when it was sent: expiresAt 20 s, usableUntil min(20, 30 − 15) = 15 s
      const fetch = Effect.gen(function*() {
        const sent = yield* Clock.currentTimeMillis
        calls++
        yield* Effect.sleep("20 seconds")
        return issue(`tok-${calls}`, sent, 30)
      })
      const token = yield* AccessToken.make(fetch)
      const waiting = yield* Effect.fork(token.get)
      yield* TestClock.adjust("20 seconds")
      assert.strictEqual(value(yield* waiting), "tok-1")
      assert.isTrue(Option.isNone(yield* token.current))
      const next = yield* Effect.fork(token.get)
      yield* TestClock.adjust("20 seconds")
      assert.strictEqual(value(yield* next), "tok-2")
      assert.strictEqual(calls, 2)
    }))

  it.scoped("a token that arrives at the exact millisecond of its margin is not cached", () =>
    Effect.gen(function*() {
      let calls = 0
      // the request takes 15 s: the 30 s token arrives at usableUntil (15 s) exactly
      const fetch = Effect.gen(function*() {
        const sent = yield* Clock.currentTimeMillis
        calls++
        yield* Effect.sleep("15 seconds")
        return issue(`tok-${calls}`, sent, 30)
      })
      const token = yield* AccessToken.make(fetch)
      const waiting = yield* Effect.fork(token.get)
      yield* TestClock.adjust("15 seconds")
      assert.strictEqual(value(yield* waiting), "tok-1")
      assert.isTrue(Option.isNone(yield* token.current))
    }))

  it.scoped("at the exact millisecond of usableUntil the cached token is no longer handed out", () =>
    Effect.gen(function*() {
      const f = scripted()
      // no refresh ahead: refreshAfter = usableUntil = 3570 s, so nothing is fetched before the margin
      const token = yield* AccessToken.make(f.fetch, { refreshAhead: "0 seconds" })
      assert.strictEqual(value(yield* token.get), "tok-1")
      yield* TestClock.setTime(3_569_999)
      assert.strictEqual(value(yield* token.get), "tok-1")
      yield* TestClock.setTime(3_570_000)
      assert.strictEqual(value(yield* token.get), "tok-2")
      assert.strictEqual(f.calls(), 2)
    }))

  it.scoped("at the exact millisecond of expiresAt a failed fetch no longer falls back to the old token", () =>
    Effect.gen(function*() {
      const f = scripted()
      const token = yield* AccessToken.make(f.fetch)
      yield* token.get // expiresAt 3590 s
      f.fail()
      yield* TestClock.setTime(3_589_999)
      assert.strictEqual(value(yield* token.get), "tok-1") // inside the margin: the fallback
      yield* TestClock.setTime(3_590_000)
      assert.strictEqual(yield* Effect.flip(token.get), refused)
    }))

  it.scoped("without a storeKey, a lifecycle keeps its token under the key \"default\"", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory()
      const token = yield* AccessToken.make(scripted().fetch, { store })
      yield* token.get
      yield* settle
      assert.strictEqual(Option.getOrUndefined(Option.map(yield* store.get("default"), value)), "tok-1")
    }))

  it.scoped("a token this lifecycle invalidated is not taken back from a store that still holds it", () =>
    Effect.gen(function*() {
      // a store whose remove is lost (eventual consistency): it keeps handing tok-1 out
      const inner = TokenStore.makeMemory()
      const lagging: TokenStore.TokenStore = { get: inner.get, set: inner.set, remove: () => Effect.void }
      const f = scripted()
      const token = yield* AccessToken.make(f.fetch, { store: lagging, storeKey: "k" })
      assert.strictEqual(value(yield* token.get), "tok-1")
      yield* settle
      assert.isTrue(yield* token.invalidate("tok-1"))
      assert.strictEqual(Option.getOrUndefined(Option.map(yield* inner.get("k"), value)), "tok-1")
      assert.strictEqual(value(yield* token.get), "tok-2")
      assert.strictEqual(f.calls(), 2)
    }))

  it.scoped("a stored token at the exact millisecond of its usableUntil is not adopted", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory()
      yield* store.set("k", issue("stored", 0)) // usableUntil 3570 s
      yield* TestClock.setTime(3_570_000)
      const f = scripted()
      const token = yield* AccessToken.make(f.fetch, { store, storeKey: "k" })
      assert.strictEqual(value(yield* token.get), "tok-1")
      assert.strictEqual(f.calls(), 1)
    }))
})
