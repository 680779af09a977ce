/**
 * Fleet single-flight through the lifecycle: several AccessTokens (standing for the processes of a fleet) share
 * one coordinating store (the memory store, whose lease times run on TestClock).
 */
import type { Credentials } from "@effect-oauth2/core"
import { AccessToken, ClientCredentials, TokenStore } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { type Duration, Effect, Fiber, Logger, Option, Redacted, TestClock } from "effect"
import * as TestHttp from "./utils/TestHttp.js"

const tokenUrl = "https://as.example/token"
const key = "k"

/** A token endpoint that counts requests; `delay` (TestClock time) stands for the endpoint's latency. */
const endpoint = (expiresIn = 3600) => {
  let issued = 0
  let mode: "ok" | "fail" | "stall" = "ok"
  let delay: Duration.DurationInput = "0 millis"
  const http = TestHttp.make(() => {
    if (mode === "fail") return Effect.as(Effect.sleep(delay), { status: 400, json: { error: "invalid_client" } })
    if (mode === "stall") return Effect.as(Effect.never, TestHttp.token("never"))
    const n = ++issued
    return Effect.as(Effect.sleep(delay), TestHttp.token(`tok-${n}`, expiresIn))
  })
  return {
    http,
    issued: () => issued,
    requests: () => http.requests.length,
    setMode: (m: typeof mode) => {
      mode = m
    },
    setDelay: (d: Duration.DurationInput) => {
      delay = d
    }
  }
}

/** One "process": its own lifecycle over the shared endpoint and store. */
const member = (e: ReturnType<typeof endpoint>, store: TokenStore.TokenStore, options: AccessToken.Options = {}) =>
  Effect.flatMap(
    ClientCredentials.make({ tokenUrl, clientId: "svc", clientSecret: Redacted.make("secret"), retry: false }).pipe(
      Effect.provide(e.http.layer)
    ),
    (fetch) => AccessToken.make(fetch, { store, storeKey: key, ...options })
  )

const value = (c: Credentials.Credentials) => Redacted.value(c.accessToken)

/** Two lifecycles on one memory store, both holding tok-1 (one token request). */
const pairHoldingFirstToken = Effect.gen(function*() {
  const e = endpoint()
  const store = TokenStore.makeMemory()
  const a = yield* member(e, store)
  const b = yield* member(e, store)
  yield* a.get
  yield* b.get
  return { a, b, e, store }
})

/** Lets forked fibers run (in real time) without moving the TestClock. */
const settle = Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 20)))

/** Waits (in real time, at most 5 s) until `condition` holds: forked fibers have got where the test needs them. */
const eventually = <E>(what: string, condition: Effect.Effect<boolean, E>) =>
  Effect.gen(function*() {
    for (let i = 0; i < 250; i++) {
      if (yield* condition) return
      yield* settle
    }
    assert.fail(`timed out waiting until ${what}`)
  })

const holds = (token: AccessToken.AccessToken, expected: string) =>
  Effect.map(token.current, (c) => Option.isSome(c) && value(c.value) === expected)

const callers = (token: AccessToken.AccessToken, n: number) =>
  Effect.fork(Effect.all(Array.from({ length: n }, () => token.get), { concurrency: "unbounded" }))

describe("fleet single-flight (memory store)", () => {
  it.scoped("8 lifecycles × 100 concurrent cold callers sharing a store make 1 token request", () =>
    Effect.gen(function*() {
      const e = endpoint()
      e.setDelay("100 millis")
      const store = TokenStore.makeMemory()
      const members = yield* Effect.all(Array.from({ length: 8 }, () => member(e, store)))
      const fibers = yield* Effect.forEach(members, (m) => callers(m, 100))
      yield* eventually("the token request is in flight", Effect.sync(() => e.requests() === 1))
      yield* settle
      yield* TestClock.adjust("100 millis")
      const results = (yield* Effect.forEach(fibers, Fiber.join)).flat()
      assert.strictEqual(e.requests(), 1)
      assert.strictEqual(results.length, 800)
      assert.isTrue(results.every((c) => value(c) === "tok-1"))
    }))

  it.scoped("refresh-ahead is fleet-wide: the first lifecycle past refreshAfter refreshes for all of them", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const store = TokenStore.makeMemory()
      const members = yield* Effect.all(Array.from({ length: 4 }, () => member(e, store)))
      for (const m of members) assert.strictEqual(value(yield* m.get), "tok-1")
      assert.strictEqual(e.requests(), 1, "the others adopted the stored token")
      // 3600 s token: refreshAfter 3270 s (see AccessToken.timeline)
      yield* TestClock.adjust("3270 seconds")
      e.setDelay("100 millis")
      for (const m of members) assert.strictEqual(value(yield* m.get), "tok-1", "still served, no wait")
      yield* eventually("the refresh is in flight", Effect.sync(() => e.requests() === 2))
      yield* settle
      yield* TestClock.adjust("100 millis")
      for (const m of members) yield* eventually("every lifecycle holds tok-2", holds(m, "tok-2"))
      assert.strictEqual(e.requests(), 2, "one refresh for the whole fleet")
    }))

  it.scoped("before its own refresh a lifecycle adopts a newer token another one stored", () =>
    Effect.gen(function*() {
      const { a, b, e, store } = yield* pairHoldingFirstToken
      yield* TestClock.adjust("3270 seconds")
      yield* a.get // a refreshes ahead
      yield* eventually("a stored tok-2", Effect.map(store.get(key), Option.exists((c) => value(c) === "tok-2")))
      // b reaches its refresh window later and finds tok-2 in the store
      yield* TestClock.adjust("10 seconds")
      yield* b.get
      yield* eventually("b holds tok-2", holds(b, "tok-2"))
      assert.strictEqual(e.requests(), 2)
    }))

  it.scoped("a lease holder that never answers is replaced once its lease runs out, and no caller fails", () =>
    Effect.gen(function*() {
      const e = endpoint()
      e.setMode("stall")
      const store = TokenStore.makeMemory()
      const a = yield* member(e, store, { leaseTtl: "2 seconds" })
      const b = yield* member(e, store, { leaseTtl: "2 seconds" })
      const stalled = yield* callers(a, 10)
      yield* eventually("a holds the lease and stalls", Effect.sync(() => e.requests() === 1))
      e.setMode("ok")
      const waiting = yield* callers(b, 10)
      yield* settle
      assert.strictEqual(e.requests(), 1, "b waits for a's token")
      yield* TestClock.adjust("2 seconds")
      const results = yield* Fiber.join(waiting)
      assert.strictEqual(e.requests(), 2, "b took the lease over after 2 s")
      assert.isTrue(results.every((c) => value(c) === "tok-1"))
      yield* Fiber.interrupt(stalled)
    }))

  it.scoped("a holder whose fetch fails gives the lease up, and a waiting lifecycle fetches at once", () =>
    Effect.gen(function*() {
      const e = endpoint()
      e.setDelay("1 second")
      const store = TokenStore.makeMemory()
      const a = yield* member(e, store)
      const b = yield* member(e, store)
      e.setMode("fail")
      const failing = yield* Effect.fork(Effect.flip(a.get))
      yield* eventually("a's request is in flight", Effect.sync(() => e.requests() === 1))
      const waiting = yield* Effect.fork(b.get)
      yield* settle
      assert.strictEqual(e.requests(), 1, "b waits for a")
      e.setMode("ok")
      e.setDelay("0 millis")
      yield* TestClock.adjust("1 second") // a's request is refused now
      yield* settle
      // a's refusal released the lease: b does not sit out the 10 s lease
      const error = yield* Fiber.join(failing)
      assert.strictEqual(error._tag, "ErrorResponse")
      assert.strictEqual(value(yield* Fiber.join(waiting)), "tok-1")
      assert.strictEqual(e.requests(), 2)
    }))

  it.scoped("invalidate is compare-and-delete fleet-wide: a late 401 for an old token keeps the newer stored one", () =>
    Effect.gen(function*() {
      const { a, b, e, store } = yield* pairHoldingFirstToken
      // b's API call gets a 401 for tok-1: b drops it fleet-wide and fetches tok-2
      assert.isTrue(yield* b.invalidate("tok-1"))
      assert.strictEqual(value(yield* b.get), "tok-2")
      yield* eventually("b stored tok-2", Effect.map(store.get(key), Option.exists((c) => value(c) === "tok-2")))
      // a late 401 at a for tok-1 must not delete tok-2 from the store
      assert.isTrue(yield* a.invalidate("tok-1"))
      assert.strictEqual(value(Option.getOrThrow(yield* store.get(key))), "tok-2")
      assert.strictEqual(value(yield* a.get), "tok-2", "a adopts tok-2 instead of asking for tok-3")
      assert.strictEqual(e.requests(), 2)
    }))

  it.scoped("a store that only has get, set and remove still shares its token", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const inner = TokenStore.makeMemory()
      const plain: TokenStore.TokenStore = { get: inner.get, set: inner.set, remove: inner.remove }
      const a = yield* member(e, plain)
      yield* a.get
      yield* eventually("a stored its token", Effect.map(inner.get(key), Option.isSome))
      const b = yield* member(e, plain)
      assert.strictEqual(value(yield* b.get), "tok-1")
      assert.strictEqual(e.requests(), 1)
      assert.isTrue(yield* b.invalidate("tok-1"))
      assert.isTrue(Option.isNone(yield* inner.get(key)))
    }))

  it.scoped("a store whose lease fails is logged and bypassed: the request still succeeds", () =>
    Effect.gen(function*() {
      const logs: Array<string> = []
      const logger = Logger.make(({ message }) => logs.push(String(message)))
      const e = endpoint()
      const inner = TokenStore.makeMemory()
      const broken: TokenStore.TokenStore = {
        ...inner,
        acquireLease: () =>
          Effect.fail(new TokenStore.TokenStoreError({ operation: "lease", description: "the store timed out" }))
      }
      const a = yield* member(e, broken)
      const credentials = yield* a.get.pipe(Effect.provide(Logger.replace(Logger.defaultLogger, logger)))
      assert.strictEqual(value(credentials), "tok-1")
      assert.isTrue(logs.some((line) => line.includes("Token store lease failed: the store timed out")), logs.join())
    }))

  it.scoped("a request served from the cached token never touches the store", () =>
    Effect.gen(function*() {
      const e = endpoint()
      const inner = TokenStore.makeMemory()
      let touched = 0
      const count = <A, E>(effect: Effect.Effect<A, E>) => Effect.zipRight(Effect.sync(() => touched++), effect)
      const counting: TokenStore.TokenStore = {
        get: (k) => count(inner.get(k)),
        set: (k, c) => count(inner.set(k, c)),
        remove: (k) => count(inner.remove(k)),
        acquireLease: (k, ttl) => count(inner.acquireLease(k, ttl)),
        awaitNewer: (k, after, timeout) => count(inner.awaitNewer(k, after, timeout)),
        removeIf: (k, token) => count(inner.removeIf(k, token))
      }
      const a = yield* member(e, counting)
      yield* a.get
      yield* settle
      const afterFetch = touched
      for (let i = 0; i < 1000; i++) yield* a.get
      assert.strictEqual(touched, afterFetch)
    }))
})
