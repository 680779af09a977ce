import type { Credentials } from "@effect-oauth2/core"
import { TokenStore } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { Duration, Effect, Fiber, Option, Redacted, TestClock } from "effect"
import { hourLong } from "./utils/Credentials.js"
import * as LeaseRecords from "./utils/LeaseRecords.js"

const credentials = hourLong

const tokenOf = (stored: Option.Option<Credentials.Credentials>) =>
  Option.getOrUndefined(Option.map(stored, (c) => Redacted.value(c.accessToken)))

const ttl = Duration.seconds(10)

const mapRecords = LeaseRecords.inMemory

/** The rules every coordinating store follows, run against the memory store and the lease-record store. */
const contract = (name: string, makeStore: () => TokenStore.Coordinated) =>
  describe(name, () => {
    it.effect("a lease is granted to one holder at a time, and runs out after its ttl", () =>
      Effect.gen(function*() {
        const store = makeStore()
        const first = yield* store.acquireLease("k", ttl)
        assert.isTrue(Option.isSome(first))
        assert.isTrue(Option.isNone(yield* store.acquireLease("k", ttl)), "held")
        assert.isTrue(Option.isSome(yield* store.acquireLease("other", ttl)), "leases are per key")
        yield* TestClock.adjust("10 seconds")
        assert.isTrue(Option.isSome(yield* store.acquireLease("k", ttl)), "a lease past its ttl is taken over")
      }))

    it.effect("release frees the lease, and a lease that ran out and was taken over is not freed by its old holder", () =>
      Effect.gen(function*() {
        const store = makeStore()
        const first = Option.getOrThrow(yield* store.acquireLease("k", ttl))
        yield* first.release
        const second = Option.getOrThrow(yield* store.acquireLease("k", ttl))
        yield* first.release // the first holder's late release must not free the second's lease
        assert.isTrue(Option.isNone(yield* store.acquireLease("k", ttl)))
        yield* second.release
        assert.isTrue(Option.isSome(yield* store.acquireLease("k", ttl)))
      }))

    it.effect("awaitNewer returns the stored token at once when it differs from the one given", () =>
      Effect.gen(function*() {
        const store = makeStore()
        yield* store.set("k", credentials("tok-2"))
        assert.strictEqual(tokenOf(yield* store.awaitNewer("k", Redacted.make("tok-1"), ttl)), "tok-2")
        assert.strictEqual(tokenOf(yield* store.awaitNewer("k", undefined, ttl)), "tok-2")
      }))

    it.effect("awaitNewer returns None at once when nobody holds the lease", () =>
      Effect.gen(function*() {
        const store = makeStore()
        yield* store.set("k", credentials("tok-1"))
        assert.isTrue(Option.isNone(yield* store.awaitNewer("k", Redacted.make("tok-1"), ttl)))
      }))

    it.effect("awaitNewer waits for the lease holder's token", () =>
      Effect.gen(function*() {
        const store = makeStore()
        yield* store.set("k", credentials("tok-1"))
        const lease = Option.getOrThrow(yield* store.acquireLease("k", ttl))
        const waiter = yield* Effect.fork(store.awaitNewer("k", Redacted.make("tok-1"), ttl))
        yield* TestClock.adjust("1 second")
        yield* store.set("k", credentials("tok-2"))
        yield* lease.release
        yield* TestClock.adjust("1 second")
        assert.strictEqual(tokenOf(yield* Fiber.join(waiter)), "tok-2")
      }))

    it.effect("awaitNewer gives up when the holder releases without a token, and at the latest after the timeout", () =>
      Effect.gen(function*() {
        const store = makeStore()
        const lease = Option.getOrThrow(yield* store.acquireLease("k", ttl))
        const released = yield* Effect.fork(store.awaitNewer("k", undefined, ttl))
        yield* TestClock.adjust("1 second")
        yield* lease.release
        yield* TestClock.adjust("1 second")
        assert.isTrue(Option.isNone(yield* Fiber.join(released)))

        yield* store.acquireLease("k", Duration.minutes(10))
        const timedOut = yield* Effect.fork(store.awaitNewer("k", undefined, Duration.seconds(3)))
        yield* TestClock.adjust("3 seconds")
        assert.isTrue(Option.isNone(yield* Fiber.join(timedOut)))
      }))

    it.effect("removeIf removes only the token it names (compare-and-delete)", () =>
      Effect.gen(function*() {
        const store = makeStore()
        yield* store.set("k", credentials("tok-2"))
        assert.isFalse(yield* store.removeIf("k", Redacted.make("tok-1")))
        assert.strictEqual(tokenOf(yield* store.get("k")), "tok-2")
        assert.isTrue(yield* store.removeIf("k", Redacted.make("tok-2")))
        assert.isTrue(Option.isNone(yield* store.get("k")))
        assert.isFalse(yield* store.removeIf("k", Redacted.make("tok-2")))
      }))
  })

describe("TokenStore", () => {
  contract("makeMemory", TokenStore.makeMemory)

  contract("withLeaseRecords", () => TokenStore.withLeaseRecords(TokenStore.makeMemory(), mapRecords().api))

  it.effect("withLeaseRecords takes over a lease record nobody can read", () =>
    Effect.gen(function*() {
      const { api, records } = mapRecords()
      const store = TokenStore.withLeaseRecords(TokenStore.makeMemory(), api)
      records.set("k", "{not json")
      assert.isTrue(Option.isSome(yield* store.acquireLease("k", ttl)))
      assert.deepStrictEqual(Object.keys(JSON.parse(records.get("k")!)).sort(), ["owner", "until"])
    }))

  it.effect("coordinated: a store with get, set and remove only gets a lease that is always granted", () =>
    Effect.gen(function*() {
      const inner = TokenStore.makeMemory()
      const plain: TokenStore.TokenStore = { get: inner.get, set: inner.set, remove: inner.remove }
      const store = TokenStore.coordinated(plain)
      assert.isTrue(Option.isSome(yield* store.acquireLease("k", ttl)))
      assert.isTrue(Option.isSome(yield* store.acquireLease("k", ttl)), "nobody to coordinate with")
      yield* store.set("k", credentials("tok-1"))
      assert.isTrue(Option.isNone(yield* store.awaitNewer("k", Redacted.make("tok-1"), ttl)), "no wait")
      assert.strictEqual(tokenOf(yield* store.awaitNewer("k", Redacted.make("tok-0"), ttl)), "tok-1")
      assert.isFalse(yield* store.removeIf("k", Redacted.make("tok-0")))
      assert.isTrue(yield* store.removeIf("k", Redacted.make("tok-1")))
      assert.isTrue(Option.isNone(yield* inner.get("k")))
    }))

  it("coordinated keeps the members a store has", () => {
    const store = TokenStore.makeMemory()
    const lifted = TokenStore.coordinated(store)
    assert.strictEqual(lifted.acquireLease, store.acquireLease)
    assert.strictEqual(lifted.awaitNewer, store.awaitNewer)
    assert.strictEqual(lifted.removeIf, store.removeIf)
  })

  it("TokenStoreError names the operation and what failed", () => {
    const error = new TokenStore.TokenStoreError({ operation: "lease", description: "redis timed out after 500 ms" })
    assert.strictEqual(error.message, "Token store lease failed: redis timed out after 500 ms")
    assert.isTrue(TokenStore.isTokenStoreError(error))
  })
})
