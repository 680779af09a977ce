/**
 * The stores' waiting and lease details: a waiter that leaves does not take another waiter's wake-up with it, a late
 * release is harmless, the lease-record store wakes at the end of the lease or of the wait rather than at the next
 * poll, and a lease owner is 128 random bits written as 32 hex digits.
 */
import type { Credentials } from "@effect-oauth2/core"
import { TokenStore } from "@effect-oauth2/core"
import { assert, describe, it } from "@effect/vitest"
import { strictEqual } from "@effect/vitest/utils"
import { Duration, Effect, Exit, Fiber, Option, Redacted, TestClock } from "effect"
import { hourLong } from "../utils/Credentials.js"
import * as LeaseRecords from "../utils/LeaseRecords.js"

const credentials = hourLong

const mapRecords = LeaseRecords.inMemory

/** The value of a fiber that has ended, or "running". */
const outcome = <A, E>(fiber: Fiber.RuntimeFiber<A, E>) =>
  Effect.map(
    Fiber.poll(fiber),
    (exit) => Option.isNone(exit) ? "running" : Exit.isSuccess(exit.value) ? exit.value.value : "failed"
  )

const tokenOf = (found: unknown) =>
  Option.isOption(found) && Option.isSome(found)
    ? Redacted.value((found.value as Credentials.Credentials).accessToken)
    : found

describe("TokenStore.makeMemory", () => {
  it.effect("a waiter that gives up does not keep the write from waking another waiter of the key", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory()
      yield* store.acquireLease("k", Duration.minutes(1))
      const brief = yield* Effect.fork(store.awaitNewer("k", undefined, Duration.seconds(1)))
      const patient = yield* Effect.fork(store.awaitNewer("k", undefined, Duration.seconds(30)))
      yield* TestClock.adjust("1 second")
      assert.isTrue(Option.isNone(yield* Fiber.join(brief)), "the brief waiter gave up")
      yield* store.set("k", credentials("tok-1"))
      yield* TestClock.adjust("1 millis")
      strictEqual(tokenOf(yield* outcome(patient)), "tok-1", "the patient waiter was woken by the write")
    }))

  it.effect("a holder whose lease ran out, was taken over and freed can still release: nothing happens", () =>
    Effect.gen(function*() {
      const store = TokenStore.makeMemory()
      const late = Option.getOrThrow(yield* store.acquireLease("k", Duration.seconds(1)))
      yield* TestClock.adjust("2 seconds")
      const next = Option.getOrThrow(yield* store.acquireLease("k", Duration.seconds(10)))
      yield* next.release
      yield* late.release
      const again = yield* store.acquireLease("k", Duration.seconds(10))
      assert.isTrue(Option.isSome(again))
      assert.isTrue(Option.isNone(yield* store.acquireLease("k", Duration.seconds(10))), "the new lease holds")
    }))
})

describe("TokenStore.withLeaseRecords", () => {
  it.effect("awaitNewer stops at the end of the holder's lease, before the next poll", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("100 seconds") // a clock far from 0, as a real one is
      const store = TokenStore.withLeaseRecords(TokenStore.makeMemory(), mapRecords().api, {
        pollInterval: "10 seconds"
      })
      yield* store.acquireLease("k", Duration.seconds(1))
      const waiter = yield* Effect.fork(store.awaitNewer("k", undefined, Duration.seconds(30)))
      yield* TestClock.adjust("1 second")
      const done = yield* outcome(waiter)
      assert.isTrue(
        Option.isOption(done) && Option.isNone(done),
        `ended with None at the lease's end, got ${String(done)}`
      )
    }))

  it.effect("awaitNewer stops at its own deadline, before the next poll", () =>
    Effect.gen(function*() {
      yield* TestClock.adjust("100 seconds")
      const store = TokenStore.withLeaseRecords(TokenStore.makeMemory(), mapRecords().api, {
        pollInterval: "10 seconds"
      })
      yield* store.acquireLease("k", Duration.minutes(1))
      const waiter = yield* Effect.fork(store.awaitNewer("k", undefined, Duration.seconds(2)))
      yield* TestClock.adjust("2 seconds")
      const done = yield* outcome(waiter)
      assert.isTrue(
        Option.isOption(done) && Option.isNone(done),
        `ended with None at the deadline, got ${String(done)}`
      )
    }))

  it.effect("a lease record's owner is 128 bits as 32 lowercase hex digits", () =>
    Effect.gen(function*() {
      const { api, records } = mapRecords()
      const store = TokenStore.withLeaseRecords(TokenStore.makeMemory(), api)
      // 32 owners: that none has a byte under 0x10 (one hex digit unpadded) is a chance of about 1 in 10^14.
      for (let i = 0; i < 32; i++) yield* store.acquireLease(`k${i}`, Duration.seconds(10))
      for (const record of records.values()) assert.match(JSON.parse(record).owner, /^[0-9a-f]{32}$/)
      strictEqual(records.size, 32)
    }))
})
